//! Referential integrity of writes and the conditional references of transactions and batches.
//! A local literal reference (`Type/id`, `Type/id/_history/n`, or either under this server's
//! base URL) must name a resource the writer may read when the write commits; what the writer
//! may not read answers exactly as what does not exist, so the check reveals nothing of other
//! institutions' records. Contained (`#id`), external, logical and resolved `urn:` references
//! are not looked up. A conditional reference (`Type?params`) is replaced by the one resource
//! it matches within the caller's scope.
//! Spec: <https://hl7.org/fhir/R4/references.html>, <https://hl7.org/fhir/R4/http.html#trules>

use serde_json::Value;

use super::Services;
use super::write_tx::WriteTx;
use crate::error::Error;
use crate::fhir::{Issue, IssueType};
use crate::messages::InteractionMessage as M;
use crate::store::{LockKey, Scoped};

/// Whether writes are checked, and the base URL under which an absolute reference is local.
#[derive(Debug, Clone)]
pub struct Integrity {
    pub enabled: bool,
    /// Without a trailing slash.
    pub base_url: String,
}

/// One `reference` of a resource with the path naming it (`Observation.subject.reference`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    pub expression: String,
    pub reference: String,
}

/// What a reference points at, as far as the store is concerned.
#[derive(Debug, PartialEq)]
enum Target<'a> {
    Local {
        res_type: &'a str,
        id: &'a str,
        version: Option<&'a str>,
    },
    Conditional {
        res_type: &'a str,
    },
    /// A `urn:uuid:`/`urn:oid:` no entry's fullUrl matched (only meaningful in a transaction).
    Urn,
    /// Contained, external, logical or unparsable: not looked up.
    Elsewhere,
}

fn target<'a>(reference: &'a str, base_url: &str) -> Target<'a> {
    if reference.starts_with('#') {
        return Target::Elsewhere;
    }
    if reference.starts_with("urn:") {
        return Target::Urn;
    }
    let relative = match reference.strip_prefix(base_url) {
        Some(rest) if rest.starts_with('/') => rest.trim_start_matches('/'),
        _ if reference.contains("://") => return Target::Elsewhere,
        _ => reference,
    };
    if let Some((res_type, _)) = relative.split_once('?') {
        return if crate::fhir::is_resource_type(res_type) {
            Target::Conditional { res_type }
        } else {
            Target::Elsewhere
        };
    }
    match relative.split('/').collect::<Vec<_>>().as_slice() {
        [res_type, id] if crate::fhir::is_resource_type(res_type) => Target::Local {
            res_type,
            id,
            version: None,
        },
        [res_type, id, "_history", version] if crate::fhir::is_resource_type(res_type) => {
            Target::Local {
                res_type,
                id,
                version: Some(version),
            }
        }
        _ => Target::Elsewhere,
    }
}

/// Every `reference` string in `resource`, named by its path from the resource type. A Bundle
/// has none to check: its references resolve between its own entries (CLINS documents and
/// report units are stored as such Bundles).
pub(crate) fn references_of(res_type: &str, resource: &Value) -> Vec<Found> {
    let mut found = Vec::new();
    if res_type != "Bundle" {
        collect(resource, res_type.to_string(), &mut found);
    }
    found
}

fn collect(value: &Value, path: String, found: &mut Vec<Found>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("reference", Value::String(s)) => found.push(Found {
                        expression: format!("{path}.reference"),
                        reference: s.clone(),
                    }),
                    _ => collect(v, format!("{path}.{key}"), found),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect(v, format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// The references of a resource about to be written that the store must hold at commit:
/// local ones, and in a transaction the `urn:` ones no entry resolved. Empty when the check is
/// off. A conditional reference outside a transaction or batch is kept too: nothing resolves it.
pub(crate) fn to_check(
    svc: &Services,
    res_type: &str,
    resource: &Value,
    in_transaction: bool,
) -> Vec<Found> {
    if !svc.references.enabled {
        return Vec::new();
    }
    references_of(res_type, resource)
        .into_iter()
        // A Consent names the person it is about by any Patient of theirs, another
        // institution's too (see README, Access): looking that one up would tell the writer
        // whether an id it may not read exists.
        .filter(|f| f.expression != "Consent.patient.reference")
        .filter(|f| match target(&f.reference, &svc.references.base_url) {
            Target::Local { .. } | Target::Conditional { .. } => true,
            Target::Urn => in_transaction,
            Target::Elsewhere => false,
        })
        .collect()
}

/// Refuses (422, one issue per reference) the references among `found` that name nothing the
/// caller may read: absent, deleted, a version that does not exist, or another's.
/// Each target found is held until the write commits (the kernel's lock
/// [`LockKey::ReferenceTarget`]): a delete racing the write either commits first, and the read
/// here sees it (its statement starts after the lock waited), or waits for the write.
pub(crate) fn check(tx: &mut WriteTx<'_, '_>, found: &[Found]) -> Result<(), Error> {
    let svc = tx.services();
    let mut issues = Vec::new();
    for f in found {
        let why = match target(&f.reference, &svc.references.base_url) {
            Target::Local {
                res_type,
                id,
                version,
            } => match tx
                .lock(LockKey::ReferenceTarget { res_type, id })
                .and_then(|()| super::read::read_in(&mut tx.scoped()?, res_type, id, version))
            {
                Ok(_) => continue,
                Err(
                    Error::NotFound { .. }
                    | Error::Gone { .. }
                    | Error::VersionNotFound { .. }
                    | Error::Invalid { .. },
                ) => M::ReferenceNotFound {
                    reference: f.reference.clone(),
                },
                Err(e) => return Err(e),
            },
            Target::Urn => M::ReferenceNotInBundle {
                reference: f.reference.clone(),
            },
            Target::Conditional { .. } => M::ConditionalReferenceOutsideBundle {
                reference: f.reference.clone(),
            },
            Target::Elsewhere => continue,
        };
        issues.push(Issue::error(IssueType::NotFound, why).at(f.expression.clone()));
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(Error::Unprocessable(issues))
    }
}

/// Rewrites every conditional reference of `resource` to the `Type/id` of its one match
/// within `scoped`'s scope. Its criteria are parsed strictly (an unknown parameter is refused, never dropped
/// to widen the match); no match or several answer 412.
pub(crate) fn resolve_conditional(
    svc: &Services,
    scoped: &mut Scoped<'_>,
    resource: &mut Value,
) -> Result<(), Error> {
    match resource {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match (key.as_str(), v) {
                    ("reference", Value::String(s)) => {
                        if let Target::Conditional { res_type } =
                            target(s, &svc.references.base_url)
                        {
                            *s = resolve_one(svc, scoped, res_type, s)?;
                        }
                    }
                    (_, v) => resolve_conditional(svc, scoped, v)?,
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                resolve_conditional(svc, scoped, v)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// [`resolve_conditional`] for a batch entry, before its own write: in a read of the store
/// through the caller's scope. The write then checks, at its commit, that the match still exists.
pub(crate) async fn resolved_for_batch(
    svc: &Services,
    mut resource: Value,
) -> Result<Value, Error> {
    let mut found = Vec::new();
    collect(&resource, String::new(), &mut found);
    let base_url = &svc.references.base_url;
    if !found
        .iter()
        .any(|f| matches!(target(&f.reference, base_url), Target::Conditional { .. }))
    {
        return Ok(resource);
    }
    let (svc2, session) = (svc.clone(), svc.session());
    svc.store
        .read(move |conn| {
            resolve_conditional(&svc2, &mut session.scoped(conn)?, &mut resource)?;
            Ok(resource)
        })
        .await
}

fn resolve_one(
    svc: &Services,
    scoped: &mut Scoped<'_>,
    res_type: &str,
    reference: &str,
) -> Result<String, Error> {
    let criteria = reference
        .split_once('?')
        .map_or("", |(_, criteria)| criteria);
    let query = super::write::parse_criteria(svc, res_type, criteria)?;
    let mut found = scoped.search(&query)?.resources;
    match found.len() {
        1 => Ok(format!("{res_type}/{}", found.remove(0).id)),
        0 => Err(Error::PreconditionFailed(
            M::ConditionalReferenceNone {
                reference: reference.to_string(),
            }
            .into(),
        )),
        _ => Err(Error::MultipleMatches(
            M::ConditionalReferenceSeveral {
                reference: reference.to_string(),
            }
            .into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BASE: &str = "https://fhir.example.jp/r4";

    #[test]
    fn references_are_classified_by_what_the_store_holds() {
        let local = |t, id, version| Target::Local {
            res_type: t,
            id,
            version,
        };
        assert_eq!(target("Patient/1", BASE), local("Patient", "1", None));
        assert_eq!(
            target("https://fhir.example.jp/r4/Patient/1/_history/2", BASE),
            local("Patient", "1", Some("2"))
        );
        assert_eq!(
            target("https://other.example/Patient/1", BASE),
            Target::Elsewhere
        );
        assert_eq!(
            target("https://fhir.example.jp/r4x/Patient/1", BASE),
            Target::Elsewhere
        );
        assert_eq!(target("#p1", BASE), Target::Elsewhere);
        assert_eq!(target("urn:uuid:1", BASE), Target::Urn);
        assert_eq!(
            target("Patient?identifier=a|1", BASE),
            Target::Conditional {
                res_type: "Patient"
            }
        );
        assert_eq!(target("Nothing/1", BASE), Target::Elsewhere);
    }

    #[test]
    fn references_are_named_by_their_path() {
        let r = json!({
            "subject": {"reference": "Patient/1"},
            "performer": [{"display": "x"}, {"reference": "Practitioner/2"}]
        });
        let found: Vec<_> = references_of("Observation", &r)
            .into_iter()
            .map(|f| f.expression)
            .collect();
        assert_eq!(
            found,
            [
                "Observation.subject.reference",
                "Observation.performer[1].reference"
            ]
        );
        assert!(references_of("Bundle", &r).is_empty());
    }
}
