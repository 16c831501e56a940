//! `_include` and `_revinclude` (<https://hl7.org/fhir/R4/search.html#include>): a request's
//! values read against the parameter table, and what the table lets a client ask for, for the
//! CapabilityStatement. Pure; the SQL that follows the references lives in `store`.

use super::Error;
use super::params::{ParamDef, ParamKind, params_for};
use crate::fhir::is_resource_type;
use crate::fhir::resource_types::RESOURCE_TYPES;
use crate::messages::requests::IncludeReason;

/// Which way a reference is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `_include`: from the resources found to what they reference.
    Include,
    /// `_revinclude`: to the resources that reference the ones found.
    RevInclude,
}

/// One `_include` or `_revinclude` value: the references of `source` resources held by `param`,
/// to `target` resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    pub direction: Direction,
    /// The type holding the reference; `None` for `_include=*` (every type).
    pub source: Option<String>,
    /// The reference parameter; `None` for `*` (every reference parameter of the source).
    pub param: Option<&'static str>,
    /// The type referenced, when the value names one (`Observation:subject:Patient`).
    pub target: Option<String>,
    /// `:iterate` (or R4's `:recurse`): applied to the included resources too.
    pub iterate: bool,
}

/// Reads `raw_name=raw_value`, where `raw_name` is `_include` or `_revinclude`, with
/// `iterate` already read from its modifier.
pub fn parse(
    direction: Direction,
    iterate: bool,
    raw_name: &str,
    raw_value: &str,
) -> Result<Include, Error> {
    let refused = |reason: IncludeReason| Error::Include {
        param: raw_name.to_string(),
        value: raw_value.to_string(),
        reason,
    };
    let any = |source: Option<String>| Include {
        direction,
        source,
        param: None,
        target: None,
        iterate,
    };
    let parts: Vec<&str> = raw_value.split(':').collect();
    let (source, name, target) = match parts[..] {
        // `*` alone follows every reference of whatever was found; a reverse `*` would name
        // no type to search, so it needs one.
        ["*"] if direction == Direction::Include => return Ok(any(None)),
        [source, name] => (source, name, None),
        [source, name, target] => (source, name, Some(target)),
        _ => return Err(refused(IncludeReason::Form)),
    };
    if !is_resource_type(source) {
        return Err(refused(IncludeReason::UnknownType(source.to_string())));
    }
    if let Some(t) = target
        && !is_resource_type(t)
    {
        return Err(refused(IncludeReason::UnknownTarget(t.to_string())));
    }
    if name == "*" {
        if reference_params(source).next().is_none() {
            return Err(refused(IncludeReason::NoReferences(source.to_string())));
        }
        return Ok(Include {
            target: target.map(str::to_string),
            ..any(Some(source.to_string()))
        });
    }
    let def = reference_params(source)
        .find(|d| d.name == name)
        .ok_or_else(|| {
            refused(IncludeReason::NotReference {
                res_type: source.to_string(),
                param: name.to_string(),
            })
        })?;
    if let Some(t) = target
        && !def.targets.is_empty()
        && !def.targets.contains(&t)
    {
        return Err(refused(IncludeReason::TargetNotReferenced {
            param: name.to_string(),
            target: t.to_string(),
        }));
    }
    Ok(Include {
        direction,
        source: Some(source.to_string()),
        param: Some(def.name),
        target: target.map(str::to_string),
        iterate,
    })
}

/// Types searched somewhere other than the resource store (the audit trail), whose
/// references an include could never reach.
pub(crate) const NOT_STORED: &[&str] = &["AuditEvent"];

/// The reference parameters of `res_type` an include can follow.
fn reference_params(res_type: &str) -> impl Iterator<Item = &'static ParamDef> {
    let params = if NOT_STORED.contains(&res_type) {
        &[]
    } else {
        params_for(res_type)
    };
    params.iter().filter(|d| d.kind == ParamKind::Reference)
}

/// The `_include` values a search of `res_type` takes: `*`, `Type:*` and each reference
/// parameter. Empty when the type references nothing the server indexes.
pub fn search_include(res_type: &str) -> Vec<String> {
    let mut out: Vec<String> = reference_params(res_type)
        .map(|d| format!("{res_type}:{}", d.name))
        .collect();
    if !out.is_empty() {
        out.splice(0..0, ["*".to_string(), format!("{res_type}:*")]);
    }
    out
}

/// The `_revinclude` values a search of `res_type` takes: every reference parameter of any
/// type that may point at `res_type` (those that take any type included).
pub fn search_rev_include(res_type: &str) -> Vec<String> {
    RESOURCE_TYPES
        .iter()
        .flat_map(|source| {
            reference_params(source)
                .filter(|d| d.targets.is_empty() || d.targets.contains(&res_type))
                .map(move |d| format!("{source}:{}", d.name))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn include(value: &str) -> Result<Include, Error> {
        parse(Direction::Include, false, "_include", value)
    }

    fn reason(value: &str) -> IncludeReason {
        match include(value) {
            Err(Error::Include { reason, param, .. }) => {
                assert_eq!(param, "_include");
                reason
            }
            other => panic!("{value}: {other:?}"),
        }
    }

    #[test]
    fn values_name_a_type_a_reference_parameter_and_perhaps_a_target() {
        let i = include("Observation:subject:Patient").unwrap();
        assert_eq!(i.source.as_deref(), Some("Observation"));
        assert_eq!(i.param, Some("subject"));
        assert_eq!(i.target.as_deref(), Some("Patient"));
        assert!(!i.iterate);
        let any = include("*").unwrap();
        assert_eq!((any.source, any.param), (None, None));
        let all = include("Encounter:*").unwrap();
        assert_eq!(
            (all.source.as_deref(), all.param),
            (Some("Encounter"), None)
        );
        let rev = parse(
            Direction::RevInclude,
            true,
            "_revinclude:iterate",
            "Condition:encounter",
        )
        .unwrap();
        assert!(rev.iterate);
        assert_eq!(rev.direction, Direction::RevInclude);
    }

    #[test]
    fn anything_else_is_refused_with_its_reason() {
        assert_eq!(reason("Observation"), IncludeReason::Form);
        assert_eq!(reason("a:b:c:d"), IncludeReason::Form);
        assert_eq!(
            reason("Nonsense:subject"),
            IncludeReason::UnknownType("Nonsense".into())
        );
        assert_eq!(
            reason("Observation:code"),
            IncludeReason::NotReference {
                res_type: "Observation".into(),
                param: "code".into()
            }
        );
        assert_eq!(
            reason("Observation:nothing"),
            IncludeReason::NotReference {
                res_type: "Observation".into(),
                param: "nothing".into()
            }
        );
        assert_eq!(
            reason("Observation:subject:Nonsense"),
            IncludeReason::UnknownTarget("Nonsense".into())
        );
        assert_eq!(
            reason("Observation:patient:Group"),
            IncludeReason::TargetNotReferenced {
                param: "patient".into(),
                target: "Group".into()
            }
        );
        assert_eq!(
            reason("Basic:*"),
            IncludeReason::NoReferences("Basic".into())
        );
        assert!(matches!(
            parse(Direction::RevInclude, false, "_revinclude", "*"),
            Err(Error::Include {
                reason: IncludeReason::Form,
                ..
            })
        ));
    }

    #[test]
    fn the_capabilities_follow_the_parameter_table() {
        let obs = search_include("Observation");
        assert_eq!(obs[..2], ["*", "Observation:*"]);
        assert!(obs.contains(&"Observation:subject".to_string()));
        assert!(!obs.contains(&"Observation:code".to_string()));
        assert!(search_include("Basic").is_empty());
        let patient = search_rev_include("Patient");
        assert!(patient.contains(&"Observation:subject".to_string()));
        assert!(patient.contains(&"Condition:patient".to_string()));
        assert!(!patient.contains(&"Observation:specimen".to_string()));
        assert!(search_rev_include("Encounter").contains(&"Condition:encounter".to_string()));
        // The audit trail is not in the resource store: nothing there can be included.
        assert!(!patient.iter().any(|v| v.starts_with("AuditEvent:")));
        assert_eq!(
            reason("AuditEvent:patient"),
            IncludeReason::NotReference {
                res_type: "AuditEvent".into(),
                param: "patient".into()
            }
        );
    }
}
