//! FHIR search: which parameters each resource type supports, how a stored resource is turned
//! into index rows, and how a request's query string becomes a typed [`SearchQuery`].
//! Everything here is pure; the SQL that runs a `SearchQuery` lives in `store`.
//! Spec: <https://hl7.org/fhir/R4/search.html>

pub mod chain;
pub mod composite;
pub mod date;
pub mod extract;
pub mod include;
pub mod number;
pub mod paging;
pub mod params;
pub mod query;
pub mod reindex;
pub mod terminology;
mod typed;
pub mod unions;

pub use date::{DateRange, parse_fhir_date};
pub use extract::{extract, index_computed};
pub use include::{Direction, Include};
pub use params::{ParamDef, ParamKind, params_for};
pub use query::parse;

/// Microseconds since the Unix epoch, UTC. Dates are indexed and compared as inclusive ranges of these.
pub type Micros = i64;

/// Index rows of one resource version, computed outside the database transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexRows {
    pub tokens: Vec<TokenValue>,
    pub strings: Vec<StringValue>,
    pub dates: Vec<DateValue>,
    pub references: Vec<ReferenceValue>,
    pub numbers: Vec<NumberValue>,
    pub quantities: Vec<QuantityRow>,
    pub uris: Vec<UriValue>,
    pub token_pairs: Vec<TokenPairValue>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumberValue {
    pub param: &'static str,
    pub value: f64,
}

/// A Quantity index row; also the row of a composite of a code and a quantity of one element.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantityRow {
    pub param: &'static str,
    pub system: Option<String>,
    /// The unit code, or the unit text when the Quantity has no code.
    pub code: Option<String>,
    pub value: f64,
    /// The value in UCUM base units and the name of those units, when the unit is UCUM's and
    /// understood (see `number::Canonical`).
    pub canonical: Option<number::Canonical>,
    /// For a composite: the code of the same element (`Observation.code`, `component.code`).
    pub component: Option<(Option<String>, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriValue {
    pub param: &'static str,
    pub uri: String,
}

/// The row of a composite of two tokens of one element (`code-value-concept`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPairValue {
    pub param: &'static str,
    pub system: Option<String>,
    pub code: String,
    pub value_system: Option<String>,
    pub value_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenValue {
    pub param: &'static str,
    /// `None` when the element carries no system (plain `code`, Coding without system).
    pub system: Option<String>,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringValue {
    pub param: &'static str,
    /// Lower-cased, accents and width variants folded: what the default (starts-with) search compares.
    pub normalized: String,
    /// The value as written, for `:exact`.
    pub exact: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateValue {
    pub param: &'static str,
    /// Inclusive bounds; an open Period end is `Micros::MAX`, an open start `Micros::MIN`.
    pub start: Micros,
    pub end: Micros,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceValue {
    pub param: &'static str,
    pub target_type: String,
    pub target_id: String,
}

/// A parsed search request for one resource type. Clauses are ANDed; the values of one clause ORed.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub resource_type: String,
    pub clauses: Vec<Clause>,
    pub sort: Vec<SortKey>,
    /// Page size after clamping to the configured maximum; 0 asks for the total only.
    pub count: usize,
    pub offset: usize,
    pub total: TotalMode,
    /// Parameters that were not understood and were ignored (only when not strict), for the warning.
    pub ignored: Vec<String>,
    /// The parameters that were applied, in canonical form, for the `self`/`next` links.
    pub applied: Vec<(String, String)>,
    /// `_summary=true|text|data` or `_elements`: the part of each entry shown.
    pub subset: Option<crate::fhir::subset::Subset>,
    /// `Patient/{id}/[type]`: only resources in that patient's compartment.
    pub compartment: Option<Compartment>,
    /// Keyset paging: only resources stored after this key (the order when nothing is sorted),
    /// so a page follows its predecessor whatever was written or deleted in between.
    pub after: Option<i64>,
    /// `_include` and `_revinclude` values, in request order.
    pub includes: Vec<Include>,
    /// Most resources the includes may add to one page (the server's `search_max_include`).
    pub include_limit: usize,
    /// Chained parameters and `_has`, ANDed with the clauses.
    pub chains: Vec<Chain>,
    /// System-level search (`[base]?_type=…`): the types searched when the query's type is
    /// [`ALL_TYPES`] outside a compartment; empty: every type but those [`SERVED_APART`].
    pub types: Vec<String>,
}

/// A chained parameter (`subject:Patient.name=…`, <https://hl7.org/fhir/R4/search.html#chaining>)
/// or a reverse chain (`_has:Observation:subject:code=…`, #has): a resource matches when the
/// reference parameter `param` links it to a resource matching one of `targets`.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub link: Link,
    /// The reference parameter: of the searched type when [`Link::Forward`], of the targets'
    /// type when [`Link::Reverse`].
    pub param: &'static str,
    /// The conditions on the linked resources, one query per type the link may reach, ORed;
    /// only their clauses and chains are used.
    pub targets: Vec<SearchQuery>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The searched resource references the target.
    Forward,
    /// The target references the searched resource (`_has`).
    Reverse,
}

/// The type of a search over every compartment type: `Patient/{id}/*` and `$everything`.
pub const ALL_TYPES: &str = "*";

/// Types searched somewhere other than the resource store (the audit trail, the terminology):
/// a system-level search without `_type` leaves them out.
pub const SERVED_APART: &[&str] = &["AuditEvent", "CodeSystem", "ValueSet"];

/// The patient compartment a search runs in (<https://hl7.org/fhir/R4/compartmentdefinition.html>).
/// A resource is in `Patient/{patient}`'s compartment when that Patient is the one it names at
/// its compartment paths, as stored with it (`access::person::PatientLink`); a Patient is in
/// its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compartment {
    pub patient: String,
    /// The types searched when the query's type is [`ALL_TYPES`].
    pub types: Vec<String>,
}

impl SearchQuery {
    /// A query of `resource_type` with no conditions yet, a page of `count`.
    pub fn new(resource_type: &str, count: usize, include_limit: usize) -> Self {
        SearchQuery {
            resource_type: resource_type.to_string(),
            clauses: Vec::new(),
            sort: Vec::new(),
            count,
            offset: 0,
            total: TotalMode::Accurate,
            ignored: Vec::new(),
            applied: Vec::new(),
            subset: None,
            compartment: None,
            after: None,
            includes: Vec::new(),
            include_limit,
            chains: Vec::new(),
            types: Vec::new(),
        }
    }

    /// The values of every clause, through the chains too: what `search_max_values` limits.
    pub fn value_count(&self) -> usize {
        let own: usize = self.clauses.iter().map(|c| c.values.len()).sum();
        let chained: usize = self
            .chains
            .iter()
            .flat_map(|c| &c.targets)
            .map(SearchQuery::value_count)
            .sum();
        own + chained
    }

    /// The path the search was asked at, for its `self` and paging links.
    pub fn path(&self) -> String {
        match &self.compartment {
            Some(c) => format!("Patient/{}/{}", c.patient, self.resource_type),
            // A system-level search is asked at the base, its types in `_type`.
            None if self.resource_type == ALL_TYPES => String::new(),
            None => self.resource_type.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalMode {
    Accurate,
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// Search parameter name as given (without modifier), e.g. `code`, `_id`.
    pub param: &'static str,
    pub target: Target,
    /// `:not` on tokens: matches resources with no value equal to any of `values`.
    pub negate: bool,
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `_id`: compared with the logical id column.
    Id,
    /// `_lastUpdated`: compared with the last-updated column.
    LastUpdated,
    /// A parameter held in the index table of this kind.
    Index(ParamKind),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `:missing=true|false`.
    Missing(bool),
    Token {
        system: TokenSystem,
        code: Option<String>,
    },
    String {
        value: String,
        mode: StringMatch,
    },
    Date {
        prefix: Prefix,
        start: Micros,
        end: Micros,
    },
    Reference {
        target_type: Option<String>,
        id: String,
    },
    Id(String),
    /// A number with its prefix and the range its written precision implies.
    Number(number::NumberSearch),
    /// `[prefix]number|system|code`.
    Quantity(number::QuantitySearch),
    Uri {
        uri: String,
        mode: UriMatch,
    },
    /// A composite parameter's value: the token of the element (`code`) and the value of the
    /// same element (a quantity or a token), `token$value`.
    Composite {
        token: Box<Value>,
        value: Box<Value>,
    },
    /// Matches no resource: a value set that expanded to no code (`:in`).
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriMatch {
    /// The indexed uri equals the value.
    Exact,
    /// `:below`: the indexed uri starts with the value.
    Below,
    /// `:above`: the value starts with the indexed uri.
    Above,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSystem {
    /// `code`: any system.
    Any,
    /// `|code`: no system.
    NoSystem,
    /// `system|code` or `system|`.
    Is(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringMatch {
    /// Default: normalized value starts with the (normalized) search value.
    StartsWith,
    /// `:exact`: the value as written equals the search value.
    Exact,
    /// `:contains`: normalized value contains the normalized search value.
    Contains,
}

/// FHIR search prefixes. `sa`, `eb` and `ap` are supported besides the ordering ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub param: &'static str,
    pub target: SortTarget,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortTarget {
    Id,
    LastUpdated,
    /// The earliest start among the resource's date index rows for this parameter.
    Date,
}

// The error is defined with its texts in the catalogue; its methods are here.
pub use crate::messages::requests::SearchError as Error;

impl Error {
    /// The parameter the error is about, for the OperationOutcome `expression`.
    pub fn param(&self) -> &str {
        match self {
            Error::UnknownParameter(p)
            | Error::Chain(p)
            | Error::ReverseChain(p)
            | Error::UnsupportedFilter(p) => p,
            // The sort key is a value of `_sort`, which is the parameter at fault.
            Error::UnsupportedSort(_) => "_sort",
            Error::UnsupportedModifier { param, .. }
            | Error::InvalidValue { param, .. }
            | Error::TooManyValues { param, .. }
            | Error::BadChain { param, .. }
            | Error::Include { param, .. } => param,
        }
    }
}
