//! The search index rows as diesel inserts them: one struct per `search_*` table, borrowed from
//! the [`IndexRows`](crate::search::IndexRows) a write extracted before its transaction.
//!
//! `treat_none_as_default_value = false` binds a `None` as NULL, as the column list of each
//! INSERT must not depend on the row: one statement per table is prepared once per connection
//! and reused (see `Conn::insert_index`).

use diesel::prelude::*;

use super::schema::{
    search_date, search_number, search_quantity, search_quantity_pair, search_reference,
    search_string, search_token, search_token_pair, search_uri,
};
use crate::search::{
    DateValue, NumberValue, QuantityRow, ReferenceValue, StringValue, TokenPairValue, TokenValue,
    UriValue,
};

#[derive(Insertable)]
#[diesel(table_name = search_token, treat_none_as_default_value = false)]
pub(super) struct NewToken<'a> {
    rkey: i64,
    res_type: &'a str,
    param: &'a str,
    system: Option<&'a str>,
    code: &'a str,
}

impl<'a> NewToken<'a> {
    pub(super) fn new(rkey: i64, res_type: &'a str, t: &'a TokenValue) -> Self {
        NewToken {
            rkey,
            res_type,
            param: t.param,
            system: t.system.as_deref(),
            code: &t.code,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = search_string)]
pub(super) struct NewString<'a> {
    rkey: i64,
    res_type: &'a str,
    param: &'a str,
    normalized: &'a str,
    exact: &'a str,
}

impl<'a> NewString<'a> {
    pub(super) fn new(rkey: i64, res_type: &'a str, s: &'a StringValue) -> Self {
        NewString {
            rkey,
            res_type,
            param: s.param,
            normalized: &s.normalized,
            exact: &s.exact,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = search_date)]
pub(super) struct NewDate<'a> {
    rkey: i64,
    res_type: &'a str,
    param: &'a str,
    start_at: i64,
    end_at: i64,
}

impl<'a> NewDate<'a> {
    pub(super) fn new(rkey: i64, res_type: &'a str, d: &'a DateValue) -> Self {
        NewDate {
            rkey,
            res_type,
            param: d.param,
            start_at: d.start,
            end_at: d.end,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = search_reference)]
pub(super) struct NewReference<'a> {
    rkey: i64,
    res_type: &'a str,
    param: &'a str,
    target_type: &'a str,
    target_id: &'a str,
}

impl<'a> NewReference<'a> {
    pub(super) fn new(rkey: i64, res_type: &'a str, r: &'a ReferenceValue) -> Self {
        NewReference {
            rkey,
            res_type,
            param: r.param,
            target_type: &r.target_type,
            target_id: &r.target_id,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = search_number)]
pub(super) struct NewNumber<'a> {
    rkey: i64,
    res_type: &'a str,
    param: &'a str,
    value: f64,
}

impl<'a> NewNumber<'a> {
    pub(super) fn new(rkey: i64, res_type: &'a str, n: &'a NumberValue) -> Self {
        NewNumber {
            rkey,
            res_type,
            param: n.param,
            value: n.value,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = search_quantity, treat_none_as_default_value = false)]
pub(super) struct NewQuantity<'a> {
    rkey: i64,
    res_type: &'a str,
    param: &'a str,
    system: Option<&'a str>,
    code: Option<&'a str>,
    value: f64,
    canon_unit: Option<&'a str>,
    canon_value: Option<f64>,
}

/// A quantity row goes to `search_quantity`, or with the code of its element (a composite's
/// pair) to `search_quantity_pair`.
pub(super) enum QuantityInsert<'a> {
    Plain(NewQuantity<'a>),
    Pair(NewQuantityPair<'a>),
}

#[derive(Insertable)]
#[diesel(table_name = search_quantity_pair, treat_none_as_default_value = false)]
pub(super) struct NewQuantityPair<'a> {
    rkey: i64,
    res_type: &'a str,
    param: &'a str,
    comp_system: Option<&'a str>,
    comp_code: &'a str,
    system: Option<&'a str>,
    code: Option<&'a str>,
    value: f64,
    canon_unit: Option<&'a str>,
    canon_value: Option<f64>,
}

impl<'a> QuantityInsert<'a> {
    pub(super) fn new(rkey: i64, res_type: &'a str, q: &'a QuantityRow) -> Self {
        let canon_unit = q.canonical.as_ref().map(|c| c.unit.as_str());
        let canon_value = q.canonical.as_ref().map(|c| c.value);
        match &q.component {
            Some((comp_system, comp_code)) => QuantityInsert::Pair(NewQuantityPair {
                rkey,
                res_type,
                param: q.param,
                comp_system: comp_system.as_deref(),
                comp_code,
                system: q.system.as_deref(),
                code: q.code.as_deref(),
                value: q.value,
                canon_unit,
                canon_value,
            }),
            None => QuantityInsert::Plain(NewQuantity {
                rkey,
                res_type,
                param: q.param,
                system: q.system.as_deref(),
                code: q.code.as_deref(),
                value: q.value,
                canon_unit,
                canon_value,
            }),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = search_uri)]
pub(super) struct NewUri<'a> {
    rkey: i64,
    res_type: &'a str,
    param: &'a str,
    uri: &'a str,
}

impl<'a> NewUri<'a> {
    pub(super) fn new(rkey: i64, res_type: &'a str, u: &'a UriValue) -> Self {
        NewUri {
            rkey,
            res_type,
            param: u.param,
            uri: &u.uri,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = search_token_pair, treat_none_as_default_value = false)]
pub(super) struct NewTokenPair<'a> {
    rkey: i64,
    res_type: &'a str,
    param: &'a str,
    system: Option<&'a str>,
    code: &'a str,
    value_system: Option<&'a str>,
    value_code: &'a str,
}

impl<'a> NewTokenPair<'a> {
    pub(super) fn new(rkey: i64, res_type: &'a str, t: &'a TokenPairValue) -> Self {
        NewTokenPair {
            rkey,
            res_type,
            param: t.param,
            system: t.system.as_deref(),
            code: &t.code,
            value_system: t.value_system.as_deref(),
            value_code: &t.value_code,
        }
    }
}
