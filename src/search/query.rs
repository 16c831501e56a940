//! Turns the query parameters of a search request into a typed [`SearchQuery`]: clauses for the
//! store to run, paging, sorting and what was applied or ignored. Pure; knows nothing of HTTP.
//! Spec: <https://hl7.org/fhir/R4/search.html>

use super::date::parse_fhir_date;
use super::extract::{is_type_name, is_valid_id, normalize, parse_reference};
use super::paging;
use super::params::{ParamDef, ParamKind, meta_param, param_def};
use super::typed::{
    ConceptModifier, composite_value, concept_values, number_value, quantity_value, uri_value,
};
use super::{
    Clause, Direction, Error, Prefix, SearchQuery, SortKey, SortTarget, StringMatch, Target,
    TokenSystem, TotalMode, UriMatch, Value,
};
use crate::fhir::subset::{Subset, SummaryRequest, elements, summary};
use chrono::FixedOffset;

use crate::messages::requests::{ChainReason, SearchReason};

/// Server settings that shape how a request is read.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// Page size when the request gives no `_count`.
    pub default_count: usize,
    /// Largest page size; larger `_count` values are reduced to this.
    pub max_count: usize,
    /// Most values all clauses together may carry; more is an error naming the limit.
    pub max_values: usize,
    /// `Prefer: handling=strict`: unknown parameters, modifiers and sorts are errors, not ignored.
    pub strict: bool,
    /// The server's zone, for date values written without one.
    pub default_offset: FixedOffset,
    /// Most resources `_include`/`_revinclude` add to one page.
    pub max_include: usize,
    /// The terminology token modifiers (`:in`, `:below`…) read; without it they are refused.
    pub concepts: Option<super::terminology::ConceptSource>,
}

#[cfg(test)]
impl QueryOptions {
    /// The settings unit tests search with: pages of 20, at most 100, the zone +09:00.
    #[allow(clippy::unwrap_used)]
    pub(crate) fn for_tests(strict: bool) -> Self {
        QueryOptions {
            default_count: 20,
            max_count: 100,
            max_values: 5000,
            strict,
            default_offset: FixedOffset::east_opt(9 * 3600).unwrap(),
            max_include: 1000,
            concepts: Some(super::terminology::fake::source()),
        }
    }
}

/// Parses the (already percent-decoded) query parameters of a search on `resource_type`.
/// Invalid values are errors whatever `opts.strict` says, and so is every filter the server
/// cannot apply whose omission would widen the result ([`cannot_ignore`]); the other unknown
/// things are errors only when strict.
pub fn parse(
    resource_type: &str,
    params: &[(String, String)],
    opts: &QueryOptions,
) -> Result<SearchQuery, Error> {
    let mut parser = Parser::new(resource_type, opts, 0);
    for (name, value) in params {
        parser.param(name, value)?;
    }
    let mut query = parser.query;
    // `_summary` wins over `_elements` when both are given, as it does for the spec's servers
    // that document a choice; the two are not meant to be combined.
    query.subset = parser.summary.or(parser.elements);
    if parser.summary_count {
        // Only the total, whatever `_count` or `_total` said, in whichever order they came.
        query.count = 0;
        query.total = TotalMode::Accurate;
    }
    Ok(query)
}

/// FHIR search parameters of every resource type that filter the match set and that this
/// server does not implement.
const UNSUPPORTED_FILTERS: &[&str] = &["_list", "_text", "_content", "_query", "_filter"];

/// Search result parameters (https://hl7.org/fhir/R4/search.html#return): they shape the answer
/// (paging, order, what each entry shows, what is added) but never which resources match, so
/// one this server does not implement can be ignored with a warning without returning
/// resources the search excludes.
const RESULT_PARAMS: &[&str] = &[
    "_count",
    "_offset",
    "_sort",
    "_total",
    "_summary",
    "_elements",
    "_include",
    "_revinclude",
    "_contained",
    "_containedType",
];

/// The error for a parameter a search does not apply that may not be ignored, because
/// answering without it would return resources the search excludes: a chain (`subject.name`,
/// `subject:Patient.name`) or a reverse chain (`_has:…`) where the search takes none (resource
/// searches do, through `Parser::chain`), one of the common filters not
/// implemented (`_tag`, `_profile`…), or an unknown name written with a modifier (`foo:exact`:
/// the modifier shows a filter was meant). `None` for a plain unknown name (`foo`) or a result
/// parameter: those are ignored with a warning unless the client asks for strict handling,
/// as the spec's lenient default wants — a plain name may be a cache-buster or a tracking tag.
/// Callers ask only about names they do not apply themselves.
pub fn cannot_ignore(raw_name: &str) -> Option<Error> {
    let (name, modifier) = match raw_name.split_once(':') {
        Some((name, modifier)) => (name, Some(modifier)),
        None => (raw_name, None),
    };
    if name == "_has" {
        return Some(Error::ReverseChain(raw_name.to_string()));
    }
    // No parameter name or modifier the spec defines contains a dot; a chain always does.
    if raw_name.contains('.') {
        return Some(Error::Chain(raw_name.to_string()));
    }
    if RESULT_PARAMS.contains(&name) {
        return None;
    }
    // The meta parameters are applied by the resource searches; a search that asks here
    // (terminology, audit trail) does not apply them, and they filter.
    if UNSUPPORTED_FILTERS.contains(&name) || meta_param(name).is_some() || modifier.is_some() {
        return Some(Error::UnsupportedFilter(raw_name.to_string()));
    }
    None
}

/// A modifier (the part after `:` in a parameter name) this server understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Modifier<'a> {
    None,
    Missing,
    Not,
    Exact,
    Contains,
    /// A resource type on a reference parameter, e.g. `subject:Patient`.
    Type(&'a str),
    /// Tokens: subsumption in a code system; uris: by path.
    Above,
    Below,
    /// Tokens: membership of a value set.
    In,
    NotIn,
}

/// The search result parameters this server reads itself; none takes a modifier.
const COMMON_PARAMS: &[&str] = &[
    "_count",
    "_offset",
    "_sort",
    "_total",
    "_summary",
    "_elements",
    "_id",
    "_lastUpdated",
];

/// What a clause is on: its parameter name, the name as written, where it looks, the modifier.
type ClauseHead<'a> = (&'static str, &'a str, Target, Modifier<'a>);

struct Parser<'a> {
    resource_type: &'a str,
    opts: &'a QueryOptions,
    /// How many chain links lead to this type: 0 for the searched type.
    depth: usize,
    query: SearchQuery,
    /// `_summary=count` was asked: applied once every parameter is read.
    summary_count: bool,
    summary: Option<Subset>,
    elements: Option<Subset>,
}

/// The conditions `raw_name=raw_value` puts on the `resource_type` a chain reaches after
/// `depth` links: its clauses and further chains. Unknown names are errors however lenient the
/// search, since the chain is a filter; result parameters are refused, they filter nothing.
pub(super) fn chained_condition(
    resource_type: &str,
    raw_name: &str,
    raw_value: &str,
    opts: &QueryOptions,
    depth: usize,
) -> Result<SearchQuery, Error> {
    let refused = |reason| Error::BadChain {
        param: raw_name.to_string(),
        reason,
    };
    let name = raw_name.split([':', '.']).next().unwrap_or(raw_name);
    if RESULT_PARAMS.contains(&name) || matches!(name, "_format" | "_pretty") {
        return Err(refused(ChainReason::NotAFilter(name.to_string())));
    }
    let strict = QueryOptions {
        strict: true,
        ..opts.clone()
    };
    let mut parser = Parser::new(resource_type, &strict, depth);
    match parser.param(raw_name, raw_value) {
        Ok(()) => Ok(parser.query),
        Err(Error::UnknownParameter(param)) => Err(refused(ChainReason::UnknownParameter {
            res_type: resource_type.to_string(),
            param,
        })),
        Err(other) => Err(other),
    }
}

impl<'a> Parser<'a> {
    fn new(resource_type: &'a str, opts: &'a QueryOptions, depth: usize) -> Self {
        let count = paging::default_count(opts);
        Parser {
            resource_type,
            opts,
            depth,
            query: SearchQuery::new(resource_type, count, opts.max_include),
            summary_count: false,
            summary: None,
            elements: None,
        }
    }
}

impl Parser<'_> {
    fn param(&mut self, raw_name: &str, raw_value: &str) -> Result<(), Error> {
        let (name, modifier) = match raw_name.split_once(':') {
            Some((name, modifier)) => (name, Some(modifier)),
            None => (raw_name, None),
        };
        // An empty value asks for nothing, so it restricts nothing.
        if raw_value.is_empty() || matches!(name, "_format" | "_pretty") {
            return Ok(());
        }
        // Before the name is looked up: `subject:Patient.name` names a known parameter, but no
        // type modifier can apply its chain.
        if name == "_has" || raw_name.contains('.') {
            return self.chain(raw_name, raw_value);
        }
        if let Some(direction) = include_direction(name) {
            return self.include(direction, raw_name, modifier, raw_value);
        }
        if modifier.is_some() && COMMON_PARAMS.contains(&name) {
            return self.unsupported_modifier(raw_name);
        }
        if name == "_list" {
            return match modifier {
                None => self.list(raw_value),
                Some(_) => self.unsupported_modifier(raw_name),
            };
        }
        let applied = match name {
            "_count" => {
                self.query.count = paging::count(raw_value, self.opts)?;
                false
            }
            "_offset" => {
                self.query.offset = paging::offset(raw_value)?;
                false
            }
            "_sort" => return self.sort(raw_value),
            "_total" => {
                self.query.total = total_mode(raw_value)?;
                true
            }
            "_summary" => {
                match summary(raw_value).map_err(|reason| invalid(name, raw_value, reason))? {
                    SummaryRequest::Count => self.summary_count = true,
                    // The whole resource, which is what every search returns.
                    SummaryRequest::Whole => {}
                    SummaryRequest::Subset(subset) => self.summary = Some(subset),
                }
                true
            }
            "_elements" => {
                let subset =
                    elements(raw_value).map_err(|reason| invalid(name, raw_value, reason))?;
                self.elements = Some(subset);
                true
            }
            "_id" => {
                let clause = ("_id", raw_name, Target::Id, Modifier::None);
                self.clause(clause, raw_value, id_value)?
            }
            "_lastUpdated" => {
                let offset = self.opts.default_offset;
                let clause = (
                    "_lastUpdated",
                    raw_name,
                    Target::LastUpdated,
                    Modifier::None,
                );
                self.clause(clause, raw_value, |item| date_value(item, offset))?
            }
            _ => match param_def(self.resource_type, name).or_else(|| meta_param(name)) {
                Some(def) => match modifier_for(def, modifier) {
                    Some(m) => self.index_clause(def, m, raw_name, raw_value)?,
                    None => return self.unsupported_modifier(raw_name),
                },
                None => match cannot_ignore(raw_name) {
                    Some(error) => return Err(error),
                    None => {
                        return self.unknown(raw_name, Error::UnknownParameter(name.to_string()));
                    }
                },
            },
        };
        if applied {
            self.query
                .applied
                .push((raw_name.to_string(), raw_value.to_string()));
        }
        Ok(())
    }

    /// A clause on one of the type's own parameters; `true` (applied) or an error.
    fn index_clause(
        &mut self,
        def: &ParamDef,
        modifier: Modifier,
        raw_name: &str,
        raw_value: &str,
    ) -> Result<bool, Error> {
        let clause = (def.name, raw_name, Target::Index(def.kind), modifier);
        let offset = self.opts.default_offset;
        match (def.kind, modifier) {
            (ParamKind::Composite, _) => {
                let Some(parts) = super::composite::parts_of(self.resource_type, def.name) else {
                    return Err(Error::UnsupportedFilter(raw_name.to_string()));
                };
                self.clause(clause, raw_value, |item| composite_value(parts, item))
            }
            (_, Modifier::Missing) => self.clause(clause, raw_value, missing_value),
            (ParamKind::Token, Modifier::Above) => {
                self.concept_clause(clause, raw_value, ConceptModifier::Above)
            }
            (ParamKind::Token, Modifier::Below) => {
                self.concept_clause(clause, raw_value, ConceptModifier::Below)
            }
            (ParamKind::Token, Modifier::In | Modifier::NotIn) => {
                self.concept_clause(clause, raw_value, ConceptModifier::In)
            }
            (ParamKind::Token, _) => self.clause(clause, raw_value, token_value),
            (ParamKind::Number, _) => self.clause(clause, raw_value, number_value),
            (ParamKind::Quantity, _) => self.clause(clause, raw_value, quantity_value),
            (ParamKind::Uri, _) => {
                let mode = match modifier {
                    Modifier::Above => UriMatch::Above,
                    Modifier::Below => UriMatch::Below,
                    _ => UriMatch::Exact,
                };
                self.clause(clause, raw_value, |item| uri_value(item, mode))
            }
            (ParamKind::String, _) => {
                self.clause(clause, raw_value, |item| Ok(string_value(item, modifier)))
            }
            (ParamKind::Date, _) => self.clause(clause, raw_value, |item| date_value(item, offset)),
            (ParamKind::Reference, _) => {
                let type_modifier = match modifier {
                    Modifier::Type(t) => Some(t),
                    _ => None,
                };
                self.clause(clause, raw_value, |item| {
                    reference_value(def, type_modifier, item)
                })
            }
        }
    }

    /// Adds a clause whose values are the comma-separated items of `raw_value`, each read by
    /// `read`. Errors name the parameter as written, modifier included.
    fn clause(
        &mut self,
        (param, raw_name, target, modifier): ClauseHead,
        raw_value: &str,
        read: impl Fn(&str) -> Result<Value, String>,
    ) -> Result<bool, Error> {
        let invalid = |reason: SearchReason| Error::InvalidValue {
            param: raw_name.to_string(),
            value: raw_value.to_string(),
            reason,
        };
        let mut values = Vec::new();
        for item in split_unescaped(raw_value, ',') {
            if item.is_empty() {
                return Err(invalid(SearchReason::EmptyListItem));
            }
            values.push(read(item).map_err(|why| invalid(SearchReason::Value(why)))?);
        }
        self.within_max_values(raw_name, values.len())?;
        self.query.clauses.push(Clause {
            param,
            target,
            negate: modifier == Modifier::Not,
            values,
        });
        Ok(true)
    }

    /// Refuses `raw_name` when `adding` values on top of those the query holds pass the
    /// `max_values` bound (clauses, chains and includes share it).
    fn within_max_values(&self, raw_name: &str, adding: usize) -> Result<(), Error> {
        if self.query.value_count() + adding > self.opts.max_values {
            return Err(Error::TooManyValues {
                param: raw_name.to_string(),
                limit: self.opts.max_values,
            });
        }
        Ok(())
    }

    /// A token clause whose modifier the terminology answers: each item becomes the codes it
    /// stands for, ORed; `:not-in` negates the clause like `:not`.
    fn concept_clause(
        &mut self,
        (param, raw_name, target, modifier): ClauseHead,
        raw_value: &str,
        question: ConceptModifier,
    ) -> Result<bool, Error> {
        let invalid = |reason: SearchReason| Error::InvalidValue {
            param: raw_name.to_string(),
            value: raw_value.to_string(),
            reason,
        };
        let mut values = Vec::new();
        for item in split_unescaped(raw_value, ',') {
            if item.is_empty() {
                return Err(invalid(SearchReason::EmptyListItem));
            }
            let codes = concept_values(self.opts.concepts.as_ref(), question, item)
                .map_err(|why| invalid(SearchReason::Value(why)))?;
            values.extend(codes);
            self.within_max_values(raw_name, values.len())?;
        }
        self.query.clauses.push(Clause {
            param,
            target,
            negate: modifier == Modifier::NotIn,
            values,
        });
        Ok(true)
    }

    fn sort(&mut self, raw_value: &str) -> Result<(), Error> {
        let mut applied = Vec::new();
        for item in raw_value.split(',') {
            let (descending, name) = match item.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, item),
            };
            if name.is_empty() {
                return Err(Error::InvalidValue {
                    param: "_sort".to_string(),
                    value: raw_value.to_string(),
                    reason: SearchReason::EmptySortKey,
                });
            }
            let key = match name {
                "_id" => Some(("_id", SortTarget::Id)),
                "_lastUpdated" => Some(("_lastUpdated", SortTarget::LastUpdated)),
                _ => param_def(self.resource_type, name)
                    .filter(|def| def.kind == ParamKind::Date)
                    .map(|def| (def.name, SortTarget::Date)),
            };
            match key {
                Some((param, target)) => {
                    self.query.sort.push(SortKey {
                        param,
                        target,
                        descending,
                    });
                    applied.push(item);
                }
                None => self.unknown(
                    &format!("_sort={item}"),
                    Error::UnsupportedSort(name.to_string()),
                )?,
            }
        }
        if !applied.is_empty() {
            self.query
                .applied
                .push(("_sort".to_string(), applied.join(",")));
        }
        Ok(())
    }

    /// A chained parameter or `_has`: applied or refused, never ignored ([`cannot_ignore`]).
    fn chain(&mut self, raw_name: &str, raw_value: &str) -> Result<(), Error> {
        let depth = self.depth + 1;
        let chain = super::chain::parse(self.resource_type, raw_name, depth, |t, rest| {
            chained_condition(t, rest, raw_value, self.opts, depth)
        })
        // A refusal deep in the chain names the parameter as the client wrote it.
        .map_err(|error| match error {
            Error::BadChain { reason, .. } => Error::BadChain {
                param: raw_name.to_string(),
                reason,
            },
            other => other,
        })?;
        let added: usize = chain.targets.iter().map(SearchQuery::value_count).sum();
        self.within_max_values(raw_name, added)?;
        self.query.chains.push(chain);
        self.query
            .applied
            .push((raw_name.to_string(), raw_value.to_string()));
        Ok(())
    }

    /// `_list=id[,id…]` (<https://hl7.org/fhir/R4/search.html#list>): the resources a List
    /// holds in `entry.item`, read as the reverse chain `_has:List:item:_id=…`, so the List is
    /// judged by the caller's scope like any chained resource: one the caller may not read
    /// holds nothing, as one that does not exist, and its existence never shows. Functional
    /// lists (`$current-problems`…) are not ids and are refused.
    fn list(&mut self, raw_value: &str) -> Result<(), Error> {
        for item in split_unescaped(raw_value, ',') {
            id_value(item).map_err(|e| invalid("_list", raw_value, SearchReason::Value(e)))?;
        }
        let at = self.query.applied.len();
        self.chain("_has:List:item:_id", raw_value)
            .map_err(|error| match error {
                Error::TooManyValues { limit, .. } => Error::TooManyValues {
                    param: "_list".to_string(),
                    limit,
                },
                Error::BadChain { reason, .. } => Error::BadChain {
                    param: "_list".to_string(),
                    reason,
                },
                other => other,
            })?;
        if let Some(applied) = self.query.applied.get_mut(at) {
            applied.0 = "_list".to_string();
        }
        Ok(())
    }

    /// An `_include` or `_revinclude`: always applied or refused, never ignored, since a client
    /// that asked for the referenced resources would otherwise read their absence as fact.
    fn include(
        &mut self,
        direction: Direction,
        raw_name: &str,
        modifier: Option<&str>,
        raw_value: &str,
    ) -> Result<(), Error> {
        let iterate = match modifier {
            None => false,
            // `recurse` is R4's older name of `iterate`.
            Some("iterate" | "recurse") => true,
            Some(_) => return self.unsupported_modifier(raw_name),
        };
        // The include being parsed counts as one more value.
        self.within_max_values(raw_name, self.query.includes.len() + 1)?;
        let include = super::include::parse(direction, iterate, raw_name, raw_value)?;
        self.query.includes.push(include);
        self.query
            .applied
            .push((raw_name.to_string(), raw_value.to_string()));
        Ok(())
    }

    /// A modifier the parameter does not take. On a result parameter (`_count:x`) it is
    /// ignored unless strict; on a filter (`code:text`, `_id:above`) it is an error, because
    /// the filter without its modifier would match differently, often more.
    fn unsupported_modifier(&mut self, raw_name: &str) -> Result<(), Error> {
        let (param, modifier) = raw_name.split_once(':').unwrap_or((raw_name, ""));
        let error = Error::UnsupportedModifier {
            param: param.to_string(),
            modifier: modifier.to_string(),
        };
        if RESULT_PARAMS.contains(&param) {
            return self.unknown(raw_name, error);
        }
        Err(error)
    }

    /// Something this server does not support: an error when strict, else noted and skipped.
    fn unknown(&mut self, as_written: &str, error: Error) -> Result<(), Error> {
        if self.opts.strict {
            return Err(error);
        }
        self.query.ignored.push(as_written.to_string());
        Ok(())
    }
}

fn include_direction(name: &str) -> Option<Direction> {
    match name {
        "_include" => Some(Direction::Include),
        "_revinclude" => Some(Direction::RevInclude),
        _ => None,
    }
}

/// The modifier, if `def` supports it. Reference parameters take a target type as modifier.
fn modifier_for<'a>(def: &ParamDef, modifier: Option<&'a str>) -> Option<Modifier<'a>> {
    let modifier = match modifier {
        None => return Some(Modifier::None),
        Some(m) => m,
    };
    match (def.kind, modifier) {
        // The parts of a composite are matched together; no modifier says how to apply to both.
        (ParamKind::Composite, _) => None,
        (_, "missing") => Some(Modifier::Missing),
        (ParamKind::Token, "not") => Some(Modifier::Not),
        (ParamKind::Token | ParamKind::Uri, "above") => Some(Modifier::Above),
        (ParamKind::Token | ParamKind::Uri, "below") => Some(Modifier::Below),
        (ParamKind::Token, "in") => Some(Modifier::In),
        (ParamKind::Token, "not-in") => Some(Modifier::NotIn),
        (ParamKind::String, "exact") => Some(Modifier::Exact),
        (ParamKind::String, "contains") => Some(Modifier::Contains),
        (ParamKind::Reference, t)
            if is_type_name(t) && (def.targets.is_empty() || def.targets.contains(&t)) =>
        {
            Some(Modifier::Type(t))
        }
        _ => None,
    }
}

fn invalid(param: &str, value: &str, reason: SearchReason) -> Error {
    Error::InvalidValue {
        param: param.to_string(),
        value: value.to_string(),
        reason,
    }
}

fn total_mode(raw: &str) -> Result<TotalMode, Error> {
    match raw {
        "none" => Ok(TotalMode::None),
        // Counting is cheap enough that an estimate is the exact count.
        "estimate" | "accurate" => Ok(TotalMode::Accurate),
        _ => Err(Error::InvalidValue {
            param: "_total".to_string(),
            value: raw.to_string(),
            reason: SearchReason::TotalMode,
        }),
    }
}

/// Splits at each `sep` not escaped by a backslash; escapes are left for [`unescape`].
pub(super) fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Removes the search escapes `\,` `\|` `\$` `\\`; other backslashes are literal.
pub(super) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(&next @ (',' | '|' | '$' | '\\'))) => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

fn missing_value(item: &str) -> Result<Value, String> {
    match item {
        "true" => Ok(Value::Missing(true)),
        "false" => Ok(Value::Missing(false)),
        _ => Err(":missing takes true or false".to_string()),
    }
}

fn id_value(item: &str) -> Result<Value, String> {
    let id = unescape(item);
    if !is_valid_id(&id) {
        return Err(format!(
            "'{id}' is not a resource id (1-64 of A-Z a-z 0-9 - .)"
        ));
    }
    Ok(Value::Id(id))
}

/// `code`, `system|code`, `|code` or `system|`.
pub(super) fn token_value(item: &str) -> Result<Value, String> {
    let (system, code) = match split_unescaped(item, '|')[..] {
        [code] => (TokenSystem::Any, unescape(code)),
        [system, code] => {
            let system = unescape(system);
            let system = if system.is_empty() {
                TokenSystem::NoSystem
            } else {
                TokenSystem::Is(system)
            };
            (system, unescape(code))
        }
        _ => return Err("a token has at most one unescaped '|'".to_string()),
    };
    match (system, code) {
        (TokenSystem::Is(system), code) if code.is_empty() => Ok(Value::Token {
            system: TokenSystem::Is(system),
            code: None,
        }),
        (_, code) if code.is_empty() => Err("a token needs a code or a system".to_string()),
        (system, code) => Ok(Value::Token {
            system,
            code: Some(code),
        }),
    }
}

fn string_value(item: &str, modifier: Modifier) -> Value {
    let value = unescape(item);
    let (value, mode) = match modifier {
        Modifier::Exact => (value, StringMatch::Exact),
        Modifier::Contains => (normalize(&value), StringMatch::Contains),
        _ => (normalize(&value), StringMatch::StartsWith),
    };
    Value::String { value, mode }
}

/// An optional two-letter prefix followed by a FHIR date.
pub(crate) fn date_value(item: &str, offset: FixedOffset) -> Result<Value, String> {
    let item = unescape(item);
    let bytes = item.as_bytes();
    let prefixed = bytes.len() > 2
        && bytes[..2].iter().all(u8::is_ascii_lowercase)
        && bytes[2].is_ascii_digit();
    let (prefix, date) = if prefixed {
        let prefix =
            prefix_of(&item[..2]).ok_or_else(|| format!("unknown prefix '{}'", &item[..2]))?;
        (prefix, &item[2..])
    } else {
        (Prefix::Eq, item.as_str())
    };
    let range = parse_fhir_date(&restore_plus(date), offset)?;
    Ok(Value::Date {
        prefix,
        start: range.start,
        end: range.end,
    })
}

fn prefix_of(s: &str) -> Option<Prefix> {
    Some(match s {
        "eq" => Prefix::Eq,
        "ne" => Prefix::Ne,
        "gt" => Prefix::Gt,
        "lt" => Prefix::Lt,
        "ge" => Prefix::Ge,
        "le" => Prefix::Le,
        "sa" => Prefix::Sa,
        "eb" => Prefix::Eb,
        "ap" => Prefix::Ap,
        _ => return None,
    })
}

/// Clients often leave the `+` of a zone unencoded, and form decoding turns it into a space.
/// A space cannot otherwise occur in a date, so it is read back as `+`.
fn restore_plus(date: &str) -> String {
    match date.find('T') {
        Some(t) => format!("{}{}", &date[..t], date[t..].replacen(' ', "+", 1)),
        None => date.to_string(),
    }
}

/// `Type/id`, `id`, or an absolute URL ending in `Type/id`. A parameter with a single target
/// type implies it, so the store compares the type too.
fn reference_value(
    def: &ParamDef,
    type_modifier: Option<&str>,
    item: &str,
) -> Result<Value, String> {
    let item = unescape(item);
    let (written_type, id) = match parse_reference(&item) {
        Some((t, id)) => (Some(t), id),
        None if is_valid_id(&item) => (None, item.as_str()),
        None => return Err("expected Type/id, an id, or a URL ending in Type/id".to_string()),
    };
    if let (Some(written), Some(modifier)) = (written_type, type_modifier)
        && written != modifier
    {
        return Err(format!(
            "type {written} contradicts the modifier :{modifier}"
        ));
    }
    let implied = match def.targets {
        [only] => Some(*only),
        _ => None,
    };
    let target_type = written_type.or(type_modifier).or(implied);
    if let Some(t) = target_type
        && !def.targets.is_empty()
        && !def.targets.contains(&t)
    {
        return Err(format!("{t} is not a target type of '{}'", def.name));
    }
    Ok(Value::Reference {
        target_type: target_type.map(str::to_string),
        id: id.to_string(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::search::Micros;

    fn opts(strict: bool) -> QueryOptions {
        QueryOptions::for_tests(strict)
    }

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn lenient(resource_type: &str, query: &[(&str, &str)]) -> SearchQuery {
        parse(resource_type, &pairs(query), &opts(false)).unwrap()
    }

    fn strict_err(resource_type: &str, query: &[(&str, &str)]) -> Error {
        parse(resource_type, &pairs(query), &opts(true)).unwrap_err()
    }

    fn lenient_err(resource_type: &str, query: &[(&str, &str)]) -> Error {
        parse(resource_type, &pairs(query), &opts(false)).unwrap_err()
    }

    fn values(resource_type: &str, name: &str, value: &str) -> Vec<Value> {
        let q = lenient(resource_type, &[(name, value)]);
        assert_eq!(q.clauses.len(), 1, "{name}={value}: {q:?}");
        q.clauses[0].values.clone()
    }

    fn at(rfc3339: &str) -> Micros {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_micros()
    }

    fn token(system: TokenSystem, code: Option<&str>) -> Value {
        Value::Token {
            system,
            code: code.map(str::to_string),
        }
    }

    #[test]
    fn token_forms() {
        assert_eq!(
            values("Observation", "code", "GLU"),
            vec![token(TokenSystem::Any, Some("GLU"))]
        );
        assert_eq!(
            values("Observation", "code", "http://loinc.org|15074-8"),
            vec![token(
                TokenSystem::Is("http://loinc.org".into()),
                Some("15074-8")
            )]
        );
        assert_eq!(
            values("Observation", "code", "|GLU"),
            vec![token(TokenSystem::NoSystem, Some("GLU"))]
        );
        assert_eq!(
            values("Observation", "code", "http://loinc.org|"),
            vec![token(TokenSystem::Is("http://loinc.org".into()), None)]
        );
        assert_eq!(
            values("Observation", "code", r"a\|b"),
            vec![token(TokenSystem::Any, Some("a|b"))]
        );
        assert!(matches!(
            lenient_err("Observation", &[("code", "|")]),
            Error::InvalidValue { .. }
        ));
        assert!(matches!(
            lenient_err("Observation", &[("code", "a|b|c")]),
            Error::InvalidValue { .. }
        ));
    }

    #[test]
    fn commas_or_and_repeats_and() {
        let q = lenient(
            "Observation",
            &[("status", "final,amended"), ("status", r"x\,y")],
        );
        assert_eq!(q.clauses.len(), 2);
        assert_eq!(
            q.clauses[0].values,
            vec![
                token(TokenSystem::Any, Some("final")),
                token(TokenSystem::Any, Some("amended"))
            ]
        );
        assert_eq!(
            q.clauses[1].values,
            vec![token(TokenSystem::Any, Some("x,y"))]
        );
        assert_eq!(q.clauses[0].target, Target::Index(ParamKind::Token));
        assert_eq!(q.clauses[0].param, "status");
        let err = lenient_err("Observation", &[("status", "final,,amended")]);
        assert!(
            matches!(err, Error::InvalidValue { ref param, .. } if param == "status"),
            "{err:?}"
        );
    }

    #[test]
    fn token_not_and_missing() {
        let q = lenient(
            "Condition",
            &[
                ("clinical-status:not", "resolved"),
                ("category:missing", "true"),
            ],
        );
        assert!(q.clauses[0].negate);
        assert_eq!(
            q.clauses[0].values,
            vec![token(TokenSystem::Any, Some("resolved"))]
        );
        assert!(!q.clauses[1].negate);
        assert_eq!(q.clauses[1].values, vec![Value::Missing(true)]);
        assert_eq!(
            values("Condition", "code:missing", "false"),
            vec![Value::Missing(false)]
        );
        let err = lenient_err("Condition", &[("code:missing", "yes")]);
        assert_eq!(err.param(), "code:missing");
    }

    #[test]
    fn string_modes_and_normalization() {
        let sv = |value: &str, mode| Value::String {
            value: value.to_string(),
            mode,
        };
        assert_eq!(
            values("Patient", "family", "ＹＡＭＡＤＡ"),
            vec![sv("yamada", StringMatch::StartsWith)]
        );
        assert_eq!(
            values("Patient", "family", "ﾔﾏﾀﾞ"),
            vec![sv("ヤマダ", StringMatch::StartsWith)]
        );
        assert_eq!(
            values("Patient", "family:exact", "Yamada"),
            vec![sv("Yamada", StringMatch::Exact)]
        );
        assert_eq!(
            values("Patient", "name:contains", "Ｔａｒ"),
            vec![sv("tar", StringMatch::Contains)]
        );
        assert_eq!(
            values("Patient", "name", r"a\,b,c\\d"),
            vec![
                sv("a,b", StringMatch::StartsWith),
                sv(r"c\d", StringMatch::StartsWith)
            ]
        );
        assert_eq!(
            values("Patient", "name:missing", "true"),
            vec![Value::Missing(true)]
        );
    }

    #[test]
    fn date_prefixes() {
        let cases = [
            ("eq", Prefix::Eq),
            ("ne", Prefix::Ne),
            ("gt", Prefix::Gt),
            ("lt", Prefix::Lt),
            ("ge", Prefix::Ge),
            ("le", Prefix::Le),
            ("sa", Prefix::Sa),
            ("eb", Prefix::Eb),
            ("ap", Prefix::Ap),
        ];
        for (text, prefix) in cases {
            let got = values("Observation", "date", &format!("{text}2024-04-01"));
            assert!(
                matches!(got[..], [Value::Date { prefix: p, .. }] if p == prefix),
                "{text}: {got:?}"
            );
        }
        let got = values("Observation", "date", "2024-04-01");
        assert!(matches!(
            got[..],
            [Value::Date {
                prefix: Prefix::Eq,
                ..
            }]
        ));
    }

    #[test]
    fn partial_dates_use_the_server_zone_and_explicit_zones_win() {
        let year = values("Observation", "date", "ge2024");
        assert_eq!(
            year,
            vec![Value::Date {
                prefix: Prefix::Ge,
                start: at("2024-01-01T00:00:00+09:00"),
                end: at("2025-01-01T00:00:00+09:00") - 1
            }]
        );
        let month = values("Patient", "birthdate", "1970-01");
        assert!(
            matches!(month[..], [Value::Date { start, .. }] if start == at("1969-12-31T15:00:00Z"))
        );
        let zulu = values("Observation", "date", "lt2024-04-01T10:00:00Z");
        let start = at("2024-04-01T10:00:00Z");
        assert_eq!(
            zulu,
            vec![Value::Date {
                prefix: Prefix::Lt,
                start,
                end: start + 999_999
            }]
        );
        assert_eq!(
            values("Observation", "date", "lt2024-04-01T19:00:00+09:00"),
            zulu
        );
        assert_eq!(
            values("Observation", "date", "lt2024-04-01T19:00:00 09:00"),
            zulu,
            "+ decoded as space"
        );
        let minute = values("Observation", "date", "2024-04-01T19:00");
        assert!(
            matches!(minute[..], [Value::Date { start: s, end: e, .. }] if s == start && e == start + 59_999_999)
        );
    }

    #[test]
    fn bad_dates_are_errors_even_when_lenient() {
        for bad in [
            "xx2024",
            "GE2024",
            "2024-13",
            "ge",
            "ge2024-02-30",
            "2024-04-01T25:00",
        ] {
            let err = lenient_err("Observation", &[("date", bad)]);
            assert!(
                matches!(err, Error::InvalidValue { ref value, .. } if value == bad),
                "{bad}: {err:?}"
            );
        }
        let err = lenient_err("Observation", &[("date", "xx2024")]);
        assert!(err.to_string().contains("unknown prefix 'xx'"), "{err}");
        assert_eq!(
            values("Observation", "date:missing", "true"),
            vec![Value::Missing(true)]
        );
    }

    fn reference(target_type: Option<&str>, id: &str) -> Value {
        Value::Reference {
            target_type: target_type.map(str::to_string),
            id: id.to_string(),
        }
    }

    #[test]
    fn reference_forms() {
        assert_eq!(
            values("Observation", "subject", "Patient/pt-1"),
            vec![reference(Some("Patient"), "pt-1")]
        );
        assert_eq!(
            values("Observation", "subject", "pt-1"),
            vec![reference(None, "pt-1")]
        );
        assert_eq!(
            values(
                "Observation",
                "subject",
                "https://fhir.example.jp/r4/Patient/pt-1"
            ),
            vec![reference(Some("Patient"), "pt-1")]
        );
        assert_eq!(
            values("Observation", "subject:Patient", "pt-1"),
            vec![reference(Some("Patient"), "pt-1")]
        );
        assert_eq!(
            values("Observation", "patient", "pt-1"),
            vec![reference(Some("Patient"), "pt-1")]
        );
        assert_eq!(
            values("Composition", "subject", "Basic/b-1"),
            vec![reference(Some("Basic"), "b-1")]
        );
        assert_eq!(
            values("Observation", "specimen:missing", "true"),
            vec![Value::Missing(true)]
        );
        for bad in [
            "#sp1",
            "urn:uuid:0a48a4bf-0d87-4efb-aafd-d45e0842a4dd",
            "Patient/",
            "a b",
        ] {
            assert!(
                matches!(
                    lenient_err("Observation", &[("subject", bad)]),
                    Error::InvalidValue { .. }
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            lenient_err("Observation", &[("patient", "Group/g-1")]),
            Error::InvalidValue { .. }
        ));
        assert!(matches!(
            lenient_err("Observation", &[("subject:Patient", "Group/g-1")]),
            Error::InvalidValue { .. }
        ));
        let err = strict_err("Observation", &[("subject:Organization", "o-1")]);
        assert_eq!(
            err,
            Error::UnsupportedModifier {
                param: "subject".into(),
                modifier: "Organization".into()
            }
        );
    }

    #[test]
    fn id_and_last_updated() {
        let q = lenient(
            "Patient",
            &[("_id", "a,b-2"), ("_lastUpdated", "gt2024-04-01")],
        );
        assert_eq!(q.clauses[0].target, Target::Id);
        assert_eq!(q.clauses[0].param, "_id");
        assert_eq!(
            q.clauses[0].values,
            vec![Value::Id("a".into()), Value::Id("b-2".into())]
        );
        assert_eq!(q.clauses[1].target, Target::LastUpdated);
        assert!(matches!(
            q.clauses[1].values[..],
            [Value::Date {
                prefix: Prefix::Gt,
                ..
            }]
        ));
        assert!(matches!(
            lenient_err("Patient", &[("_id", "a/b")]),
            Error::InvalidValue { .. }
        ));
        assert!(matches!(
            strict_err("Patient", &[("_id:missing", "true")]),
            Error::UnsupportedModifier { .. }
        ));
        // Types without their own parameters can still be searched by the common ones.
        assert_eq!(lenient("Basic", &[("_id", "x")]).clauses.len(), 1);
    }

    #[test]
    fn count_and_offset() {
        assert_eq!(lenient("Patient", &[]).count, 20);
        let q = lenient("Patient", &[("_count", "500"), ("_offset", "40")]);
        assert_eq!((q.count, q.offset), (100, 40));
        assert!(
            q.applied.is_empty(),
            "paging is added by the links themselves"
        );
        assert_eq!(lenient("Patient", &[("_count", "0")]).count, 0);
        for bad in ["-1", "abc", "1.5", " 5"] {
            assert!(
                matches!(
                    lenient_err("Patient", &[("_count", bad)]),
                    Error::InvalidValue { .. }
                ),
                "{bad}"
            );
            assert!(
                matches!(
                    lenient_err("Patient", &[("_offset", bad)]),
                    Error::InvalidValue { .. }
                ),
                "{bad}"
            );
        }
        let small = QueryOptions {
            default_count: 50,
            max_count: 10,
            max_values: 5000,
            ..opts(false)
        };
        assert_eq!(parse("Patient", &[], &small).unwrap().count, 10);
    }

    #[test]
    fn sort_keys() {
        let q = lenient("Observation", &[("_sort", "-date,_id,-_lastUpdated")]);
        let keys: Vec<(&str, SortTarget, bool)> = q
            .sort
            .iter()
            .map(|k| (k.param, k.target, k.descending))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("date", SortTarget::Date, true),
                ("_id", SortTarget::Id, false),
                ("_lastUpdated", SortTarget::LastUpdated, true)
            ]
        );
        assert_eq!(q.applied, pairs(&[("_sort", "-date,_id,-_lastUpdated")]));
        assert_eq!(
            strict_err("Observation", &[("_sort", "code")]),
            Error::UnsupportedSort("code".into())
        );
        assert_eq!(
            strict_err("Observation", &[("_sort", "-nonsense")]),
            Error::UnsupportedSort("nonsense".into())
        );
        let q = lenient("Observation", &[("_sort", "code,-date")]);
        assert_eq!(q.sort.len(), 1);
        assert_eq!(q.ignored, vec!["_sort=code"]);
        assert_eq!(q.applied, pairs(&[("_sort", "-date")]));
        assert!(matches!(
            lenient_err("Observation", &[("_sort", "date,")]),
            Error::InvalidValue { .. }
        ));
    }

    #[test]
    fn total_modes() {
        assert_eq!(lenient("Patient", &[]).total, TotalMode::Accurate);
        assert_eq!(
            lenient("Patient", &[("_total", "none")]).total,
            TotalMode::None
        );
        assert_eq!(
            lenient("Patient", &[("_total", "estimate")]).total,
            TotalMode::Accurate
        );
        assert_eq!(
            lenient("Patient", &[("_total", "accurate")]).total,
            TotalMode::Accurate
        );
        assert!(matches!(
            lenient_err("Patient", &[("_total", "some")]),
            Error::InvalidValue { .. }
        ));
    }

    #[test]
    fn unknown_things_strict_versus_lenient() {
        let query = [
            ("foo", "1"),
            ("code", "GLU"),
            ("_include:foo", "Observation:subject"),
            ("_contained", "true"),
            ("_count:x", "1"),
        ];
        let q = lenient("Observation", &query);
        assert_eq!(
            q.ignored,
            vec!["foo", "_include:foo", "_contained", "_count:x"]
        );
        assert_eq!(q.clauses.len(), 1);
        assert_eq!(
            strict_err("Observation", &[("foo", "1")]),
            Error::UnknownParameter("foo".into())
        );
        assert_eq!(
            strict_err("Observation", &[("_contained", "true")]),
            Error::UnknownParameter("_contained".into())
        );
        assert!(matches!(
            strict_err("Observation", &[("_count:x", "1")]),
            Error::UnsupportedModifier { .. }
        ));
    }

    #[test]
    fn filters_that_cannot_be_applied_are_errors_even_when_lenient() {
        let modifier = |param: &str, modifier: &str| Error::UnsupportedModifier {
            param: param.into(),
            modifier: modifier.into(),
        };
        let cases = [
            ("Observation", "code:text", modifier("code", "text")),
            (
                "Observation",
                "code:unknownmod",
                modifier("code", "unknownmod"),
            ),
            ("Observation", "code:of-type", modifier("code", "of-type")),
            (
                "Observation",
                "value-quantity:exact",
                modifier("value-quantity", "exact"),
            ),
            (
                "Observation",
                "code-value-quantity:missing",
                modifier("code-value-quantity", "missing"),
            ),
            ("Patient", "_profile:exact", modifier("_profile", "exact")),
            ("Patient", "_tag:text", modifier("_tag", "text")),
            ("Patient", "family:not", modifier("family", "not")),
            (
                "Observation",
                "subject:identifier",
                modifier("subject", "identifier"),
            ),
            ("Observation", "_id:missing", modifier("_id", "missing")),
            (
                "Observation",
                "_lastUpdated:exact",
                modifier("_lastUpdated", "exact"),
            ),
            ("Patient", "_text", Error::UnsupportedFilter("_text".into())),
            (
                "Patient",
                "_content",
                Error::UnsupportedFilter("_content".into()),
            ),
            (
                "Patient",
                "_filter",
                Error::UnsupportedFilter("_filter".into()),
            ),
            (
                "Patient",
                "foo:exact",
                Error::UnsupportedFilter("foo:exact".into()),
            ),
            (
                "Basic",
                "code:text",
                Error::UnsupportedFilter("code:text".into()),
            ),
        ];
        for (res_type, name, want) in cases {
            let got = lenient_err(res_type, &[(name, "x")]);
            assert_eq!(got, want, "{res_type}?{name}");
            assert_eq!(
                strict_err(res_type, &[(name, "x")]),
                want,
                "{res_type}?{name}"
            );
        }
        // Other searches refuse chains through `cannot_ignore`.
        assert_eq!(
            cannot_ignore("subject:Patient.name"),
            Some(Error::Chain("subject:Patient.name".into()))
        );
        assert_eq!(
            cannot_ignore("_has:Observation:patient:code"),
            Some(Error::ReverseChain("_has:Observation:patient:code".into()))
        );
        // An empty value restricts nothing, so there is nothing to widen.
        assert!(
            lenient("Observation", &[("subject.name", "")])
                .ignored
                .is_empty()
        );
        assert_eq!(
            cannot_ignore("_tag"),
            Some(Error::UnsupportedFilter("_tag".into()))
        );
        assert_eq!(cannot_ignore("foo"), None);
        assert_eq!(cannot_ignore("_elements"), None);
        assert_eq!(cannot_ignore("_include:iterate"), None);
    }

    #[test]
    fn summary_and_elements_choose_what_each_entry_shows() {
        let q = lenient(
            "Patient",
            &[("_count", "5"), ("_summary", "count"), ("_total", "none")],
        );
        assert_eq!((q.count, q.total), (0, TotalMode::Accurate));
        assert!(q.ignored.is_empty());
        assert_eq!(
            q.applied,
            pairs(&[("_summary", "count"), ("_total", "none")])
        );
        let q = lenient("Patient", &[("_summary", "count"), ("_count", "5")]);
        assert_eq!(q.count, 0);
        let q = lenient("Patient", &[("_summary", "false")]);
        assert_eq!((q.count, q.ignored.len(), q.subset), (20, 0, None));
        for (value, subset) in [
            ("true", Subset::Summary),
            ("text", Subset::Text),
            ("data", Subset::Data),
        ] {
            let q = lenient("Patient", &[("_summary", value)]);
            assert!(q.ignored.is_empty());
            assert_eq!(q.subset, Some(subset));
            assert_eq!(q.applied, pairs(&[("_summary", value)]));
        }
        let q = lenient("Patient", &[("_elements", "name,birthDate")]);
        let wanted = vec!["name".to_string(), "birthDate".to_string()];
        assert_eq!(q.subset, Some(Subset::Elements(wanted)));
        let q = lenient("Patient", &[("_summary", "text"), ("_elements", "name")]);
        assert_eq!(q.subset, Some(Subset::Text), "_summary wins");
        for (name, value) in [
            ("_summary", "all"),
            ("_elements", "name,"),
            ("_elements", "a.b"),
        ] {
            let err = lenient_err("Patient", &[(name, value)]);
            assert!(
                matches!(err, Error::InvalidValue { ref param, .. } if param == name),
                "{name}={value}: {err:?}"
            );
        }
        assert_eq!(
            lenient("Patient", &[("_summary:x", "count")]).ignored,
            vec!["_summary:x"]
        );
    }

    #[test]
    fn applied_keeps_request_order_and_skips_format_and_empty_values() {
        let query = [
            ("patient", "pt-1"),
            ("_format", "json"),
            ("_count", "10"),
            ("date", "ge2024-01-01"),
            ("_pretty", "true"),
            ("code:not", "a,b"),
            ("category", ""),
            ("_total", "none"),
            ("_offset", "10"),
        ];
        let q = parse("Observation", &pairs(&query), &opts(true)).unwrap();
        assert_eq!(
            q.applied,
            pairs(&[
                ("patient", "pt-1"),
                ("date", "ge2024-01-01"),
                ("code:not", "a,b"),
                ("_total", "none")
            ])
        );
        assert!(q.ignored.is_empty());
        assert_eq!(q.clauses.len(), 3);
        assert_eq!(q.resource_type, "Observation");
    }

    #[test]
    fn includes_are_applied_or_refused_never_ignored() {
        let query = [
            ("_include", "Observation:subject"),
            ("_revinclude:iterate", "Condition:subject"),
            ("_include:recurse", "Encounter:*"),
        ];
        let q = lenient("Observation", &query);
        assert!(q.ignored.is_empty());
        assert_eq!(q.applied, pairs(&query));
        assert_eq!(q.include_limit, 1000);
        let iterate: Vec<bool> = q.includes.iter().map(|i| i.iterate).collect();
        assert_eq!(iterate, [false, true, true]);
        assert_eq!(q.includes[1].direction, Direction::RevInclude);
        for bad in [
            "Observation:code",
            "Provenance:target",
            "Observation",
            "X:subject",
        ] {
            let err = lenient_err("Observation", &[("_include", bad)]);
            assert!(
                matches!(err, Error::Include { ref param, .. } if param == "_include"),
                "{bad}: {err:?}"
            );
        }
        let tight = QueryOptions {
            max_values: 2,
            ..opts(false)
        };
        let many = pairs(&[("_include", "*"), ("_include", "*"), ("_include", "*")]);
        assert!(matches!(
            parse("Observation", &many, &tight),
            Err(Error::TooManyValues { .. })
        ));
    }

    #[test]
    fn list_is_the_reverse_chain_of_list_items() {
        let q = lenient("Observation", &[("_list", "42,43")]);
        assert_eq!(q.applied, pairs(&[("_list", "42,43")]));
        let [chain] = q.chains.as_slice() else {
            panic!("one chain: {q:?}");
        };
        assert_eq!(chain.link, crate::search::Link::Reverse);
        assert_eq!(chain.param, "item");
        assert_eq!(chain.targets[0].resource_type, "List");
        assert_eq!(
            chain.targets[0].clauses[0].values,
            vec![Value::Id("42".into()), Value::Id("43".into())]
        );
        for bad in ["$current-problems", "a b"] {
            let err = lenient_err("Observation", &[("_list", bad)]);
            assert!(
                matches!(err, Error::InvalidValue { ref param, .. } if param == "_list"),
                "{bad}: {err:?}"
            );
        }
        assert!(matches!(
            lenient_err("Observation", &[("_list:x", "1")]),
            Error::UnsupportedModifier { .. }
        ));
    }
}
