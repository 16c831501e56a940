//! FHIRPath: parsing and evaluating the expressions of invariants and slicing discriminators.
//!
//! The engine follows FHIRPath N1 (<http://hl7.org/fhirpath/N1/>) as FHIR R4 uses it, evaluated over
//! borrowed FHIR JSON (`serde_json::Value`). An [`Expression`] is parsed once and evaluated many
//! times; evaluation borrows the JSON nodes and never clones subtrees.
//!
//! Module map:
//! - `lexer`, `parser`, `ast`: source text to syntax tree (errors carry the byte position).
//! - `value`, `decimal`, `temporal`: the items a collection holds, and their comparison rules;
//!   `ucum`: unit conversion so quantities in different units compare; `unit_product`: the
//!   units of a product or quotient of quantities.
//! - `nav`: walking FHIR JSON (choice types, `_x` primitive extensions, resource types, `is`).
//! - `eval`: operators, variables and invocation; `functions`, `strings`, `convert`, `fhir`,
//!   `boundary`: the function library.
//!
//! Types come from a caller-supplied [`TypeModel`]; without one the engine infers what the JSON
//! shows (resourceType, choice suffixes, JSON booleans and numbers). Value-set membership and
//! profile conformance are delegated to a [`Terminology`]; without one those functions report
//! [`EvalError::Unsupported`], so a validator never mistakes "could not evaluate" for "passed".

mod ast;
mod boundary;
mod convert;
pub(crate) mod decimal;
mod eval;
mod fhir;
mod functions;
mod lexer;
mod nav;
mod parser;
mod strings;
mod temporal;
pub(crate) mod ucum;
mod unit_product;
mod value;

#[cfg(test)]
mod test_model;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_exactness;
#[cfg(test)]
mod tests_fhir;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests_fuzz;
#[cfg(test)]
mod tests_packages;
#[cfg(test)]
mod tests_search_params;

use std::fmt;

pub use decimal::Decimal;
pub use temporal::{Precision, Temporal, TemporalKind};
pub use value::{Item, Node, Str, TypeInfo};

/// A parsed FHIRPath expression together with its source text.
#[derive(Debug)]
pub struct Expression {
    ast: ast::Ast,
    source: String,
}

impl Expression {
    /// Parses `src`; a syntax error carries the byte offset where it was found.
    pub fn parse(src: &str) -> Result<Expression, ParseError> {
        let ast = parser::parse(src)?;
        Ok(Expression {
            ast,
            source: src.to_string(),
        })
    }

    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Names of the functions this expression calls that the engine does not implement, so a
    /// validator can report the constraint as "cannot evaluate" before evaluating anything.
    pub fn unsupported_functions(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.ast.unknown_functions(&mut out);
        out
    }
}

/// A syntax error, with the byte offset in the source where it was detected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("FHIRPath syntax error at {position}: {message}")]
pub struct ParseError {
    pub position: usize,
    pub message: String,
}

/// Why an evaluation failed. [`EvalError::Unsupported`] means the engine (or the services it was
/// given) cannot evaluate the expression: the constraint is neither passed nor failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A function, variable or feature the engine does not implement, or a service (terminology,
    /// profile check) that was not provided or could not answer.
    #[error("cannot evaluate: {0}")]
    Unsupported(String),
    /// A real error by the FHIRPath rules: a collection of several items where one is needed,
    /// operands of incompatible types, an invalid argument.
    #[error("FHIRPath evaluation error: {0}")]
    Type(String),
}

impl EvalError {
    /// Whether the failure is "cannot evaluate" rather than an error in the expression or data.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, EvalError::Unsupported(_))
    }
}

/// The list of type codes an element may take.
#[derive(Clone, Copy, Debug)]
pub enum TypeCodes<'m> {
    Owned(&'m [String]),
    Static(&'m [&'m str]),
}

impl<'m> TypeCodes<'m> {
    pub fn len(&self) -> usize {
        match self {
            TypeCodes::Owned(v) => v.len(),
            TypeCodes::Static(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<&'m str> {
        match self {
            TypeCodes::Owned(v) => v.get(i).map(String::as_str),
            TypeCodes::Static(v) => v.get(i).copied(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &'m str> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// What a [`TypeModel`] knows about one child element.
#[derive(Clone, Copy, Debug)]
pub struct ChildType<'m> {
    /// FHIR type codes (`CodeableConcept`, `string`, `Resource`…); several for a choice element.
    pub types: TypeCodes<'m>,
    /// Whether the element is a choice (`value[x]`): its JSON key carries the type as a suffix.
    pub choice: bool,
    /// Whether the element repeats (max > 1).
    pub repeating: bool,
    /// For elements whose children are defined inline (BackboneElement, `contentReference`):
    /// the key to ask the model about their children, e.g. `Observation.component`.
    pub definition: Option<&'m str>,
}

/// The FHIR type system as far as navigation and `is`/`as`/`ofType` need it.
///
/// `parent_type` is a type name (`Observation`, `HumanName`) or, for inline element definitions,
/// the `definition` key a previous answer gave (`Observation.component`). `element` is the
/// element name without `[x]`.
pub trait TypeModel: Send + Sync {
    fn child_type(&self, parent_type: &str, element: &str) -> Option<ChildType<'_>>;
}

/// Services the caller provides for functions that need knowledge outside the instance.
pub trait Terminology: Send + Sync {
    /// `memberOf(valueSet)`: `Some(answer)`, or `None` when the value set cannot be checked
    /// (the engine then reports [`EvalError::Unsupported`]). `item` is a code, Coding,
    /// CodeableConcept or string.
    fn member_of(&self, item: &Item<'_>, value_set: &str) -> Option<bool>;

    /// `conformsTo(profile)` for a resource node; `None` when it cannot be checked.
    fn conforms_to(&self, _resource: &serde_json::Value, _profile: &str) -> Option<bool> {
        None
    }
}

/// The environment of an evaluation.
///
/// `resolve()` looks for targets in `root` (entries of a Bundle by `fullUrl` or `Type/id`,
/// `contained` by `#id`) and in `resource`'s `contained`; a validator checking a Bundle entry
/// can pass the Bundle as `root` to let references between entries resolve.
pub struct Env<'a> {
    /// `%resource`: the resource that holds the element being evaluated.
    pub resource: &'a serde_json::Value,
    /// `%rootResource`: the container of a contained resource, else the resource itself.
    pub root: &'a serde_json::Value,
    pub model: Option<&'a dyn TypeModel>,
    pub terminology: Option<&'a dyn Terminology>,
    /// FHIRPath N1 to the letter where the FHIR validators are lenient: `as` on more than one
    /// item is an error. Off for validation: R4's own invariants (dom-3's
    /// `descendants().as(canonical)`) and search parameters apply `as` to collections and mean
    /// `ofType`.
    pub strict: bool,
}

impl<'a> Env<'a> {
    /// An environment for evaluating on `resource` itself, without model or terminology.
    pub fn new(resource: &'a serde_json::Value) -> Env<'a> {
        Env {
            resource,
            root: resource,
            model: None,
            terminology: None,
            strict: false,
        }
    }
}

impl fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("model", &self.model.is_some())
            .field("terminology", &self.terminology.is_some())
            .finish_non_exhaustive()
    }
}

/// Evaluates `expr` with `focus` as `$this`/`%context`. `focus_type` is the FHIR type of the
/// focus (or an inline definition key such as `Observation.component`); when `None`, the
/// `resourceType` of the focus (if any) is used.
pub fn evaluate<'a>(
    expr: &Expression,
    focus: &'a serde_json::Value,
    focus_type: Option<&str>,
    env: &Env<'a>,
) -> Result<Vec<Item<'a>>, EvalError> {
    let items = nav::focus_items(focus, focus_type);
    evaluate_items(expr, &items, env)
}

/// Evaluates `expr` on items the caller already holds, e.g. a primitive element that has only
/// an extension (`_birthDate`), which no single JSON value represents.
pub fn evaluate_items<'a>(
    expr: &Expression,
    focus: &[Item<'a>],
    env: &Env<'a>,
) -> Result<Vec<Item<'a>>, EvalError> {
    let cx = eval::Ctx::new(env, focus);
    cx.eval_root(&expr.ast, focus)
}

/// Evaluates an invariant: an empty result gives `None`, a single boolean its value, and any
/// other single item `true` (FHIRPath singleton evaluation); several items are an error.
pub fn evaluate_bool(
    expr: &Expression,
    focus: &serde_json::Value,
    focus_type: Option<&str>,
    env: &Env<'_>,
) -> Result<Option<bool>, EvalError> {
    let out = evaluate(expr, focus, focus_type, env)?;
    value::singleton_bool(&out)
}

/// [`evaluate_bool`] on items the caller already holds.
pub fn evaluate_bool_items<'a>(
    expr: &Expression,
    focus: &[Item<'a>],
    env: &Env<'a>,
) -> Result<Option<bool>, EvalError> {
    let out = evaluate_items(expr, focus, env)?;
    value::singleton_bool(&out)
}
