//! The syntax tree of a parsed expression, and the function names the engine knows.

use super::value::Item;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Mul,
    Div,
    IntDiv,
    Mod,
    Add,
    Sub,
    Concat,
    Union,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Equiv,
    Ne,
    NotEquiv,
    In,
    Contains,
    And,
    Or,
    Xor,
    Implies,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TypeOp {
    Is,
    As,
}

/// A type name as written: `Patient`, `FHIR.Patient`, `System.String`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TypeSpec {
    pub namespace: Option<Box<str>>,
    pub name: Box<str>,
}

#[derive(Debug)]
pub(crate) struct Call {
    pub func: Func,
    pub name: Box<str>,
    pub args: Vec<Ast>,
    /// `matches`/`replaceMatches` with a literal pattern: compiled once at parse time. An invalid
    /// pattern is kept as its error message, reported when evaluated.
    pub regex: Option<Result<regex::Regex, String>>,
}

#[derive(Debug)]
pub(crate) enum Ast {
    Empty,
    Literal(Item<'static>),
    /// A name at the start of a path: a child of the focus, or the focus itself when it names
    /// the focus's type (`Patient.name` evaluated on a Patient).
    Ident(Box<str>),
    This,
    Index,
    Total,
    Var(Box<str>),
    Member(Box<Ast>, Box<str>),
    /// A function call; without a target it applies to the focus.
    Invoke(Option<Box<Ast>>, Box<Call>),
    Indexer(Box<Ast>, Box<Ast>),
    Negate(Box<Ast>),
    Binary(BinOp, Box<Ast>, Box<Ast>),
    TypeOp(TypeOp, Box<Ast>, TypeSpec),
    /// The argument of `is()`, `as()`, `ofType()`.
    TypeName(TypeSpec),
}

impl Ast {
    pub(crate) fn unknown_functions<'s>(&'s self, out: &mut Vec<&'s str>) {
        match self {
            Ast::Member(a, _) | Ast::Negate(a) | Ast::TypeOp(_, a, _) => a.unknown_functions(out),
            Ast::Indexer(a, b) | Ast::Binary(_, a, b) => {
                a.unknown_functions(out);
                b.unknown_functions(out);
            }
            Ast::Invoke(target, call) => {
                if let Some(t) = target {
                    t.unknown_functions(out);
                }
                if call.func == Func::Unknown {
                    out.push(&call.name);
                }
                for a in &call.args {
                    a.unknown_functions(out);
                }
            }
            _ => {}
        }
    }
}

macro_rules! funcs {
    ($($v:ident = $name:literal ($min:literal, $max:literal)),* $(,)?) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Func { $($v,)* Unknown }

        impl Func {
            pub(crate) fn from_name(name: &str) -> Func {
                match name { $($name => Func::$v,)* _ => Func::Unknown }
            }

            /// Allowed argument counts.
            pub(crate) fn arity(self) -> (usize, usize) {
                match self { $(Func::$v => ($min, $max),)* Func::Unknown => (0, usize::MAX) }
            }
        }
    };
}

funcs! {
    Empty = "empty" (0, 0),
    Exists = "exists" (0, 1),
    All = "all" (1, 1),
    AllTrue = "allTrue" (0, 0),
    AnyTrue = "anyTrue" (0, 0),
    AllFalse = "allFalse" (0, 0),
    AnyFalse = "anyFalse" (0, 0),
    SubsetOf = "subsetOf" (1, 1),
    SupersetOf = "supersetOf" (1, 1),
    Count = "count" (0, 0),
    Distinct = "distinct" (0, 0),
    IsDistinct = "isDistinct" (0, 0),
    Where = "where" (1, 1),
    Select = "select" (1, 1),
    Repeat = "repeat" (1, 1),
    OfType = "ofType" (1, 1),
    As = "as" (1, 1),
    Is = "is" (1, 1),
    First = "first" (0, 0),
    Last = "last" (0, 0),
    Tail = "tail" (0, 0),
    Skip = "skip" (1, 1),
    Take = "take" (1, 1),
    Single = "single" (0, 0),
    Union = "union" (1, 1),
    Combine = "combine" (1, 1),
    Intersect = "intersect" (1, 1),
    Exclude = "exclude" (1, 1),
    Iif = "iif" (2, 3),
    Type = "type" (0, 0),
    Not = "not" (0, 0),
    ToBoolean = "toBoolean" (0, 0),
    ConvertsToBoolean = "convertsToBoolean" (0, 0),
    ToInteger = "toInteger" (0, 0),
    ConvertsToInteger = "convertsToInteger" (0, 0),
    ToDecimal = "toDecimal" (0, 0),
    ConvertsToDecimal = "convertsToDecimal" (0, 0),
    ToString = "toString" (0, 0),
    ConvertsToString = "convertsToString" (0, 0),
    ToDate = "toDate" (0, 0),
    ConvertsToDate = "convertsToDate" (0, 0),
    ToDateTime = "toDateTime" (0, 0),
    ConvertsToDateTime = "convertsToDateTime" (0, 0),
    ToTime = "toTime" (0, 0),
    ConvertsToTime = "convertsToTime" (0, 0),
    ToQuantity = "toQuantity" (0, 1),
    ConvertsToQuantity = "convertsToQuantity" (0, 1),
    StartsWith = "startsWith" (1, 1),
    EndsWith = "endsWith" (1, 1),
    Contains = "contains" (1, 1),
    Matches = "matches" (1, 1),
    MatchesFull = "matchesFull" (1, 1),
    ReplaceMatches = "replaceMatches" (2, 2),
    IndexOf = "indexOf" (1, 1),
    Substring = "substring" (1, 2),
    Length = "length" (0, 0),
    Upper = "upper" (0, 0),
    Lower = "lower" (0, 0),
    Replace = "replace" (2, 2),
    Split = "split" (1, 1),
    Trim = "trim" (0, 0),
    Join = "join" (0, 1),
    ToChars = "toChars" (0, 0),
    Encode = "encode" (1, 1),
    Decode = "decode" (1, 1),
    Escape = "escape" (1, 1),
    Unescape = "unescape" (1, 1),
    Children = "children" (0, 0),
    Descendants = "descendants" (0, 0),
    HasValue = "hasValue" (0, 0),
    GetValue = "getValue" (0, 0),
    Resolve = "resolve" (0, 0),
    Extension = "extension" (1, 1),
    HasExtension = "hasExtension" (1, 1),
    MemberOf = "memberOf" (1, 1),
    ConformsTo = "conformsTo" (1, 1),
    HtmlChecks = "htmlChecks" (0, 0),
    Trace = "trace" (1, 2),
    Today = "today" (0, 0),
    Now = "now" (0, 0),
    TimeOfDay = "timeOfDay" (0, 0),
    Aggregate = "aggregate" (1, 2),
    Sort = "sort" (0, 16),
    Precision = "precision" (0, 0),
    LowBoundary = "lowBoundary" (0, 1),
    HighBoundary = "highBoundary" (0, 1),
    Comparable = "comparable" (1, 1),
    Abs = "abs" (0, 0),
    Ceiling = "ceiling" (0, 0),
    Floor = "floor" (0, 0),
    Round = "round" (0, 1),
    Sqrt = "sqrt" (0, 0),
    Truncate = "truncate" (0, 0),
    Exp = "exp" (0, 0),
    Ln = "ln" (0, 0),
    Log = "log" (1, 1),
    Power = "power" (1, 1),
}
