//! Items of a FHIRPath collection: borrowed FHIR JSON nodes with their type, or computed
//! System values; their view as System primitives, and equality, equivalence and ordering.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde_json::Value;

use super::EvalError;
use super::decimal::Decimal;
use super::nav;
use super::temporal::{Temporal, TemporalKind};
use super::ucum;

/// A string borrowed from the instance (or model), or shared when computed.
#[derive(Clone)]
pub enum Str<'a> {
    Borrowed(&'a str),
    Shared(Arc<str>),
}

impl Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Str::Borrowed(s) => s,
            Str::Shared(s) => s,
        }
    }
}

impl From<String> for Str<'_> {
    fn from(s: String) -> Self {
        Str::Shared(Arc::from(s))
    }
}

impl<'a> From<&'a str> for Str<'a> {
    fn from(s: &'a str) -> Self {
        Str::Borrowed(s)
    }
}

impl fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// An element of the instance. A FHIR primitive is split in JSON between `x` (the value) and
/// `_x` (its `id` and `extension`); a node holds both halves, either of which may be absent.
#[derive(Clone, Debug)]
pub struct Node<'a> {
    pub(crate) value: Option<&'a Value>,
    pub(crate) ext: Option<&'a Value>,
    /// The FHIR type (`CodeableConcept`, `dateTime`, `Patient`), when known.
    pub(crate) ty: Option<Str<'a>>,
    /// The key to ask the model about children when it differs from `ty`
    /// (inline BackboneElements: `Observation.component`).
    pub(crate) def: Option<Str<'a>>,
}

impl<'a> Node<'a> {
    /// A node from its value half, its `_x` half and its FHIR type.
    pub fn new(
        value: Option<&'a Value>,
        ext: Option<&'a Value>,
        fhir_type: Option<&'a str>,
    ) -> Self {
        Node {
            value,
            ext,
            ty: fhir_type.map(Str::Borrowed),
            def: None,
        }
    }

    /// A resource (its type is its `resourceType`).
    pub fn resource(value: &'a Value) -> Self {
        Node::new(
            Some(value),
            None,
            value.get("resourceType").and_then(Value::as_str),
        )
    }

    /// Names the model's key for this node's children when they are defined inline
    /// (`Observation.component`); the FHIR type is then `BackboneElement`.
    pub fn with_definition(mut self, definition: &'a str) -> Self {
        self.def = Some(Str::Borrowed(definition));
        if self.ty.is_none() {
            self.ty = Some(Str::Borrowed("BackboneElement"));
        }
        self
    }

    /// The value half: the object of a complex element, the JSON value of a primitive.
    pub fn value(&self) -> Option<&'a Value> {
        self.value
    }

    /// The `_x` half of a primitive (its `id` and `extension`).
    pub fn primitive_extension(&self) -> Option<&'a Value> {
        self.ext
    }

    /// The FHIR type, as given by the model, the JSON shape or `resourceType`.
    pub fn fhir_type(&self) -> Option<&str> {
        self.ty
            .as_deref()
            .or_else(|| nav::json_primitive_type(self.value))
    }

    pub(crate) fn def_key(&self) -> Option<&str> {
        self.def.as_deref().or(self.ty.as_deref())
    }

    pub(crate) fn is_primitive(&self) -> bool {
        !matches!(self.value, Some(Value::Object(_)))
    }

    pub(crate) fn same_node(&self, other: &Node<'_>) -> bool {
        let p = |v: Option<&Value>| v.map(|r| r as *const Value);
        p(self.value) == p(other.value) && p(self.ext) == p(other.ext)
    }
}

/// One item of a collection.
#[derive(Clone, Debug)]
pub enum Item<'a> {
    Node(Node<'a>),
    Boolean(bool),
    String(Str<'a>),
    Integer(i64),
    Decimal(Decimal),
    Temporal(Temporal),
    /// Value and unit (UCUM code, or a calendar unit such as `day`).
    Quantity(Decimal, Str<'a>),
    /// What `type()` returns: the reflection's TypeInfo, as namespace (`System`, `FHIR`) and
    /// name (`Integer`, `Patient`), read with `.namespace` and `.name`.
    Type(TypeInfo<'a>),
}

/// A type as FHIRPath reflection names it.
#[derive(Clone, Debug)]
pub struct TypeInfo<'a> {
    pub namespace: &'static str,
    pub name: Str<'a>,
}

/// The System-level view of an item, used by operators and conversions.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Prim<'s> {
    Bool(bool),
    Str(&'s str),
    Int(i64),
    Dec(Decimal),
    Temp(Temporal),
    Qty(Decimal, &'s str),
    Type(&'s TypeInfo<'s>),
    Complex(&'s Value),
    /// A primitive element that has only extensions.
    Absent,
}

fn is_quantity_type(t: &str) -> bool {
    matches!(
        t,
        "Quantity" | "Age" | "Count" | "Distance" | "Duration" | "SimpleQuantity" | "MoneyQuantity"
    )
}

impl<'a> Item<'a> {
    /// The JSON value of a node item.
    pub fn as_json(&self) -> Option<&'a Value> {
        match self {
            Item::Node(n) => n.value,
            _ => None,
        }
    }

    /// The FHIR type of a node, or the System type name of a computed value.
    pub fn type_name(&self) -> Option<&str> {
        match self {
            Item::Node(n) => n.fhir_type(),
            Item::Boolean(_) => Some("Boolean"),
            Item::String(_) => Some("String"),
            Item::Integer(_) => Some("Integer"),
            Item::Decimal(_) => Some("Decimal"),
            Item::Temporal(t) => Some(match t.kind {
                TemporalKind::Date => "Date",
                TemporalKind::DateTime => "DateTime",
                TemporalKind::Time => "Time",
            }),
            Item::Quantity(..) => Some("Quantity"),
            Item::Type(_) => Some("TypeInfo"),
        }
    }

    pub(crate) fn prim(&self) -> Prim<'_> {
        match self {
            Item::Boolean(b) => Prim::Bool(*b),
            Item::String(s) => Prim::Str(s),
            Item::Integer(i) => Prim::Int(*i),
            Item::Decimal(d) => Prim::Dec(*d),
            Item::Temporal(t) => Prim::Temp(*t),
            Item::Quantity(d, u) => Prim::Qty(*d, u),
            Item::Type(t) => Prim::Type(t),
            Item::Node(n) => node_prim(n),
        }
    }

    /// The value as text, as `toString()` gives it; `None` for complex nodes.
    pub fn to_text(&self) -> Option<Cow<'_, str>> {
        Some(match self.prim() {
            Prim::Str(s) => Cow::Borrowed(s),
            Prim::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
            Prim::Int(i) => Cow::Owned(i.to_string()),
            Prim::Dec(d) => match self {
                // The number as the instance wrote it (as far as JSON parsing kept it).
                Item::Node(Node {
                    value: Some(Value::Number(n)),
                    ..
                }) => Cow::Owned(n.to_string()),
                _ => Cow::Owned(d.to_string()),
            },
            Prim::Temp(t) => match self {
                Item::Node(Node {
                    value: Some(Value::String(s)),
                    ..
                }) => Cow::Borrowed(s.as_str()),
                _ => Cow::Owned(t.to_string()),
            },
            Prim::Qty(d, u) => Cow::Owned(format!("{d} '{u}'")),
            Prim::Type(_) | Prim::Complex(_) | Prim::Absent => return None,
        })
    }
}

/// A JSON number as the exact decimal it was written as (numbers keep their text); binary
/// floating point only for text the decimal cannot hold.
fn number_decimal(n: &serde_json::Number) -> Option<Decimal> {
    Decimal::parse(&n.to_string()).or_else(|| n.as_f64().and_then(Decimal::from_f64))
}

fn node_prim<'s>(n: &'s Node<'_>) -> Prim<'s> {
    let ty = n.ty.as_deref();
    match n.value {
        None | Some(Value::Null) | Some(Value::Array(_)) => Prim::Absent,
        Some(Value::Bool(b)) => Prim::Bool(*b),
        Some(Value::Number(num)) => match (ty, num.as_i64()) {
            (Some("decimal"), _) | (_, None) => number_decimal(num).map_or(Prim::Absent, Prim::Dec),
            (_, Some(i)) => Prim::Int(i),
        },
        Some(Value::String(s)) => {
            let parsed = match ty {
                Some("date") => Temporal::parse_date(s),
                Some("dateTime" | "instant") => Temporal::parse_datetime(s),
                Some("time") => Temporal::parse_time(s),
                _ => None,
            };
            parsed.map_or(Prim::Str(s), Prim::Temp)
        }
        Some(v @ Value::Object(o)) => {
            let quantity = match ty {
                Some(t) => is_quantity_type(t),
                None => o.get("value").is_some_and(Value::is_number),
            };
            let value = match o.get("value") {
                Some(Value::Number(n)) => number_decimal(n),
                _ => None,
            };
            let unit = o
                .get("code")
                .or_else(|| o.get("unit"))
                .and_then(Value::as_str);
            match (quantity, value) {
                (true, Some(d)) => Prim::Qty(d, unit.unwrap_or("1")),
                _ => Prim::Complex(v),
            }
        }
    }
}

/// A string compared with a date/time: untyped instance data (no model) holds dates as strings.
fn temporal_from_str(s: &str, like: &Temporal) -> Option<Temporal> {
    match like.kind {
        TemporalKind::Time => Temporal::parse_time(s),
        _ => Temporal::parse_datetime(s),
    }
}

/// Calendar and UCUM spellings of the same definite duration.
fn unit_key(u: &str) -> &str {
    match u {
        "second" | "seconds" => "s",
        "millisecond" | "milliseconds" => "ms",
        "years" => "year",
        "months" => "month",
        "weeks" => "week",
        "days" => "day",
        "hours" => "hour",
        "minutes" => "minute",
        other => other,
    }
}

/// Two quantities' values in one unit: as they are when the units are the same, converted by
/// UCUM otherwise; `None` when the units are not comparable (the comparison is then empty).
fn quantity_values(x: Decimal, u: &str, y: Decimal, v: &str) -> Option<(Decimal, Decimal)> {
    if unit_key(u) == unit_key(v) {
        return Some((x, y));
    }
    ucum::comparable_values(x, u, y, v)
}

fn numeric(p: &Prim<'_>) -> Option<Decimal> {
    match p {
        Prim::Int(i) => Some(Decimal::from_i64(*i)),
        Prim::Dec(d) => Some(*d),
        _ => None,
    }
}

/// `=` on two items: `None` when FHIRPath says the result is empty.
pub(crate) fn equal(a: &Item<'_>, b: &Item<'_>) -> Option<bool> {
    let (pa, pb) = (a.prim(), b.prim());
    match (pa, pb) {
        (Prim::Complex(x), Prim::Complex(y)) => Some(x == y),
        (Prim::Complex(_), _) | (_, Prim::Complex(_)) => Some(false),
        (Prim::Type(x), Prim::Type(y)) => Some(x.namespace == y.namespace && *x.name == *y.name),
        (Prim::Type(_), _) | (_, Prim::Type(_)) => Some(false),
        (Prim::Absent, _) | (_, Prim::Absent) => None,
        (Prim::Bool(x), Prim::Bool(y)) => Some(x == y),
        (Prim::Str(x), Prim::Str(y)) => Some(x == y),
        (Prim::Temp(x), Prim::Temp(y)) => x.compare(&y).map(|o| o == Ordering::Equal),
        (Prim::Str(s), Prim::Temp(t)) | (Prim::Temp(t), Prim::Str(s)) => {
            match temporal_from_str(s, &t) {
                Some(p) => p.compare(&t).map(|o| o == Ordering::Equal),
                None => Some(false),
            }
        }
        (Prim::Qty(x, u), Prim::Qty(y, v)) => quantity_values(x, u, y, v).map(|(x, y)| x == y),
        _ => match (numeric(&pa), numeric(&pb)) {
            (Some(x), Some(y)) => Some(x == y),
            _ => Some(false),
        },
    }
}

fn normalize_ws(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `~` on two items.
pub(crate) fn equivalent(a: &Item<'_>, b: &Item<'_>) -> bool {
    let (pa, pb) = (a.prim(), b.prim());
    match (pa, pb) {
        (Prim::Complex(x), Prim::Complex(y)) => x == y,
        (Prim::Absent, Prim::Absent) => true,
        (Prim::Str(x), Prim::Str(y)) => normalize_ws(x) == normalize_ws(y),
        (Prim::Temp(x), Prim::Temp(y)) => x.equivalent(&y),
        (Prim::Qty(x, u), Prim::Qty(y, v)) => {
            // `y` in `x`'s unit, then compared at the precision of the less precise value.
            let y = if unit_key(u) == unit_key(v) {
                Some(y)
            } else {
                ucum::convert(y, v, u)
            };
            y.is_some_and(|y| {
                let s = x.scale().min(y.scale());
                x.round(s) == y.round(s)
            })
        }
        _ => match (numeric(&pa), numeric(&pb)) {
            (Some(x), Some(y)) => {
                let s = x.scale().min(y.scale());
                x.round(s) == y.round(s)
            }
            _ => equal(a, b) == Some(true),
        },
    }
}

/// Ordering for `<`, `>`, `<=`, `>=`: `Ok(None)` when undecidable (different precision or
/// units), an error for types that have no order between them.
pub(crate) fn compare(a: &Item<'_>, b: &Item<'_>) -> Result<Option<Ordering>, EvalError> {
    let (pa, pb) = (a.prim(), b.prim());
    Ok(match (pa, pb) {
        (Prim::Absent, _) | (_, Prim::Absent) => None,
        (Prim::Str(x), Prim::Str(y)) => Some(x.cmp(y)),
        (Prim::Temp(x), Prim::Temp(y)) => x.compare(&y),
        (Prim::Str(s), Prim::Temp(t)) => temporal_from_str(s, &t).and_then(|p| p.compare(&t)),
        (Prim::Temp(t), Prim::Str(s)) => temporal_from_str(s, &t).and_then(|p| t.compare(&p)),
        (Prim::Qty(x, u), Prim::Qty(y, v)) => {
            quantity_values(x, u, y, v).map(|(x, y)| x.cmp_value(&y))
        }
        _ => match (numeric(&pa), numeric(&pb)) {
            (Some(x), Some(y)) => Some(x.cmp_value(&y)),
            _ => {
                return Err(EvalError::Type(format!(
                    "cannot compare {} with {}",
                    a.type_name().unwrap_or("an untyped value"),
                    b.type_name().unwrap_or("an untyped value")
                )));
            }
        },
    })
}

/// Identity for de-duplication (`distinct`, `|`, `repeat`): the same node, or equal values.
pub(crate) fn same_item(a: &Item<'_>, b: &Item<'_>) -> bool {
    match (a, b) {
        (Item::Node(x), Item::Node(y)) if x.same_node(y) => true,
        _ => equal(a, b) == Some(true),
    }
}

/// Items of `items` without repeats, in first-seen order.
pub(crate) fn dedup<'a>(items: Vec<Item<'a>>) -> Vec<Item<'a>> {
    let mut out: Vec<Item<'a>> = Vec::with_capacity(items.len());
    for it in items {
        if !out.iter().any(|o| same_item(o, &it)) {
            out.push(it);
        }
    }
    out
}

/// The single item of a collection, `None` when empty, an error when there are several.
pub(crate) fn singleton<'s, 'a>(
    items: &'s [Item<'a>],
    what: &str,
) -> Result<Option<&'s Item<'a>>, EvalError> {
    match items {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(EvalError::Type(format!(
            "{what} expects a single item, got {}",
            items.len()
        ))),
    }
}

/// FHIRPath singleton evaluation where a Boolean is expected.
pub(crate) fn singleton_bool(items: &[Item<'_>]) -> Result<Option<bool>, EvalError> {
    Ok(match singleton(items, "a boolean context")? {
        None => None,
        Some(it) => match it.prim() {
            Prim::Bool(b) => Some(b),
            Prim::Absent => None,
            _ => Some(true),
        },
    })
}
