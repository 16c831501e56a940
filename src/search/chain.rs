//! Reads the name of a chained parameter (`subject:Patient.organization.name`) or a reverse
//! chain (`_has:Observation:subject:code`) into a [`Chain`]: which reference parameter links
//! the searched type to which types, with the condition on those left to the query parser.
//! Spec: <https://hl7.org/fhir/R4/search.html#chaining> and #has

use super::extract::is_type_name;
use super::params::{INDEXED_TYPES, ParamDef, ParamKind, param_def, params_for};
use super::{Chain, Error, Link, SearchQuery};
use crate::messages::requests::{ChainReason, IncludeReason};

/// Most references one parameter may follow, forward and reverse links together: each one is
/// a nested lookup in the statement, and clinical questions need no more than three
/// (`Observation?subject:Patient.organization.name`, `_has` inside `_has`).
pub const MAX_CHAIN_DEPTH: usize = 3;

/// Parses `raw_name` on `resource_type`, the `depth`-th link from the searched type;
/// `condition(type, rest)` reads the rest of the name as a condition on a linked type.
pub(super) fn parse(
    resource_type: &str,
    raw_name: &str,
    depth: usize,
    condition: impl Fn(&str, &str) -> Result<SearchQuery, Error>,
) -> Result<Chain, Error> {
    let refused = |reason| Error::BadChain {
        param: raw_name.to_string(),
        reason,
    };
    if depth > MAX_CHAIN_DEPTH {
        return Err(refused(ChainReason::TooDeep(MAX_CHAIN_DEPTH)));
    }
    match raw_name.strip_prefix("_has") {
        Some(rest) => {
            reverse(resource_type, rest, condition).map_err(|e| e.unwrap_or_else(refused))
        }
        None => forward(resource_type, raw_name, condition).map_err(|e| e.unwrap_or_else(refused)),
    }
}

/// An error of the condition, passed on, or a reason the link itself is refused.
type Refused = Result<Error, ChainReason>;

/// `ref.rest` or `ref:Type.rest`.
fn forward(
    resource_type: &str,
    raw_name: &str,
    condition: impl Fn(&str, &str) -> Result<SearchQuery, Error>,
) -> Result<Chain, Refused> {
    let (head, rest) = raw_name.split_once('.').unwrap_or((raw_name, ""));
    let (name, type_modifier) = match head.split_once(':') {
        Some((name, t)) => (name, Some(t)),
        None => (head, None),
    };
    let def = reference_param(resource_type, name)?;
    let chained = rest.split([':', '.']).next().unwrap_or(rest);
    let targets: Vec<&str> = match type_modifier {
        Some(t) if is_type_name(t) && (def.targets.is_empty() || def.targets.contains(&t)) => {
            vec![t]
        }
        Some(t) => {
            return Err(Err(ChainReason::Link(IncludeReason::TargetNotReferenced {
                param: name.to_string(),
                target: t.to_string(),
            })));
        }
        None => {
            let reachable = if def.targets.is_empty() {
                INDEXED_TYPES
            } else {
                def.targets
            };
            let having: Vec<&str> = reachable
                .iter()
                .copied()
                .filter(|t| has_param(t, chained))
                .collect();
            if having.is_empty() {
                return Err(Err(ChainReason::NoTargetHas {
                    param: name.to_string(),
                    chained: chained.to_string(),
                }));
            }
            having
        }
    };
    let targets = targets
        .into_iter()
        .map(|t| condition(t, rest))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Ok)?;
    Ok(Chain {
        link: Link::Forward,
        param: def.name,
        targets,
    })
}

/// `:Type:ref:rest` after `_has`: resources of `Type` whose `ref` names the searched one.
fn reverse(
    resource_type: &str,
    after_has: &str,
    condition: impl Fn(&str, &str) -> Result<SearchQuery, Error>,
) -> Result<Chain, Refused> {
    let parts: Vec<&str> = after_has.splitn(4, ':').collect();
    let (source, name, rest) = match parts[..] {
        ["", source, name, rest] if is_type_name(source) && !rest.is_empty() => {
            (source, name, rest)
        }
        _ => return Err(Err(ChainReason::Form)),
    };
    let def = reference_param(source, name)?;
    let reachable = is_type_name(resource_type)
        && (def.targets.is_empty() || def.targets.contains(&resource_type));
    if !reachable {
        return Err(Err(ChainReason::Link(IncludeReason::TargetNotReferenced {
            param: format!("{source}.{name}"),
            target: resource_type.to_string(),
        })));
    }
    let target = condition(source, rest).map_err(Ok)?;
    Ok(Chain {
        link: Link::Reverse,
        param: def.name,
        targets: vec![target],
    })
}

/// The reference parameter `name` of `res_type` a link follows.
fn reference_param(res_type: &str, name: &str) -> Result<&'static ParamDef, Refused> {
    param_def(res_type, name)
        .filter(|d| d.kind == ParamKind::Reference)
        .ok_or_else(|| {
            Err(ChainReason::Link(IncludeReason::NotReference {
                res_type: res_type.to_string(),
                param: name.to_string(),
            }))
        })
}

/// Whether a condition on `name` can be put on `res_type`: one of its own parameters, or a
/// parameter every type has.
fn has_param(res_type: &str, name: &str) -> bool {
    matches!(name, "_id" | "_lastUpdated" | "_has")
        || super::params::meta_param(name).is_some()
        || params_for(res_type).iter().any(|p| p.name == name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::search::query::{QueryOptions, parse as parse_query};

    fn search(resource_type: &str, name: &str, value: &str) -> Result<SearchQuery, Error> {
        let opts = QueryOptions::for_tests(false);
        parse_query(
            resource_type,
            &[(name.to_string(), value.to_string())],
            &opts,
        )
    }

    fn reason(resource_type: &str, name: &str) -> ChainReason {
        match search(resource_type, name, "x") {
            Err(Error::BadChain { param, reason }) => {
                assert_eq!(param, name, "the parameter as written is named");
                reason
            }
            other => panic!("{resource_type}?{name}: {other:?}"),
        }
    }

    /// The types a chain's link reaches and the parameters the last one is filtered on.
    fn shape(chain: &Chain) -> Vec<(String, Vec<&'static str>)> {
        chain
            .targets
            .iter()
            .map(|t| {
                let params = t.clauses.iter().map(|c| c.param).collect();
                (t.resource_type.clone(), params)
            })
            .collect()
    }

    #[test]
    fn a_chain_reads_the_rest_of_its_name_on_each_type_it_reaches() {
        let q = search("Observation", "subject:Patient.name:exact", "Yamada").unwrap();
        assert!(q.clauses.is_empty());
        assert_eq!(q.applied.len(), 1);
        let chain = &q.chains[0];
        assert_eq!((chain.link, chain.param), (Link::Forward, "subject"));
        assert_eq!(shape(chain), [("Patient".to_string(), vec!["name"])]);
        // Without a type: every type the link reaches that has the parameter.
        let q = search("Patient", "general-practitioner.name", "Sato").unwrap();
        let types: Vec<String> = shape(&q.chains[0]).into_iter().map(|(t, _)| t).collect();
        assert_eq!(types, ["Practitioner", "Organization"]);
        let q = search("Observation", "subject:Patient.organization.name", "x").unwrap();
        let inner = &q.chains[0].targets[0].chains[0];
        assert_eq!(shape(inner), [("Organization".to_string(), vec!["name"])]);
        let q = search("Patient", "_has:Observation:subject:code", "GLU").unwrap();
        let chain = &q.chains[0];
        assert_eq!((chain.link, chain.param), (Link::Reverse, "subject"));
        assert_eq!(shape(chain), [("Observation".to_string(), vec!["code"])]);
        let q = search(
            "Patient",
            "_has:Observation:subject:_has:Observation:has-member:code",
            "GLU",
        )
        .unwrap();
        let inner = &q.chains[0].targets[0].chains[0];
        assert_eq!((inner.link, inner.param), (Link::Reverse, "has-member"));
        let q = search("Observation", "subject:Patient._id", "p1").unwrap();
        assert_eq!(shape(&q.chains[0]), [("Patient".to_string(), vec!["_id"])]);
    }

    #[test]
    fn what_a_chain_cannot_follow_is_refused_with_its_reason() {
        assert_eq!(
            reason("Observation", "subject:Patient.nonsense"),
            ChainReason::UnknownParameter {
                res_type: "Patient".into(),
                param: "nonsense".into()
            }
        );
        assert_eq!(
            reason("Observation", "subject.nonsense"),
            ChainReason::NoTargetHas {
                param: "subject".into(),
                chained: "nonsense".into()
            }
        );
        assert_eq!(
            reason("Observation", "code.name"),
            ChainReason::Link(IncludeReason::NotReference {
                res_type: "Observation".into(),
                param: "code".into()
            })
        );
        assert_eq!(
            reason("Observation", "subject:Basic.name"),
            ChainReason::Link(IncludeReason::TargetNotReferenced {
                param: "subject".into(),
                target: "Basic".into()
            })
        );
        assert_eq!(
            reason("Observation", "subject:Patient._count"),
            ChainReason::NotAFilter("_count".into())
        );
        // Errors of the chained parameter itself are the usual ones.
        assert!(matches!(
            search("Observation", "subject:Patient.name:nonsense", "x"),
            Err(Error::UnsupportedModifier { .. })
        ));
        assert!(matches!(
            search("Observation", "subject:Patient.birthdate", "2024-13"),
            Err(Error::InvalidValue { .. })
        ));
        for bad in [
            "_has",
            "_has:Observation",
            "_has:Observation:subject",
            "_has::subject:code",
        ] {
            assert_eq!(reason("Patient", bad), ChainReason::Form, "{bad}");
        }
        assert_eq!(
            reason("Patient", "_has:Observation:code:status"),
            ChainReason::Link(IncludeReason::NotReference {
                res_type: "Observation".into(),
                param: "code".into()
            })
        );
        assert_eq!(
            reason("Organization", "_has:Observation:patient:status"),
            ChainReason::Link(IncludeReason::TargetNotReferenced {
                param: "Observation.patient".into(),
                target: "Organization".into()
            })
        );
        let deep = "subject:Patient.organization.partof.partof.name";
        assert_eq!(
            reason("Observation", deep),
            ChainReason::TooDeep(MAX_CHAIN_DEPTH)
        );
        let nested = "_has:Observation:subject:_has:Observation:has-member:_has:Observation:has-member:_has:Observation:has-member:code";
        assert_eq!(
            reason("Patient", nested),
            ChainReason::TooDeep(MAX_CHAIN_DEPTH)
        );
    }
}
