//! `patch` (PATCH \[base\]/\[type\]/\[id\], and conditional `PATCH [base]/[type]?criteria`) with a
//! JSON Patch (RFC 6902). Spec: <https://hl7.org/fhir/R4/http.html#patch>
//!
//! The patch is applied to the current version the caller may read; the result then goes
//! through every rule of an update — the body checks, the document rules, validation, ownership
//! — and is written as the next version only if no other write came in between: the version the
//! patch was applied to is the write's `If-Match`. A patch sent without `If-Match` of its own is
//! applied again to the newer version (a few times at most); one sent with it answers 412.

use std::time::Instant;

use json_patch::{PatchErrorKind, PatchOperation};
use serde_json::Value;

use super::read::read_in;
use super::write::{check_id, parse_criteria, validate_for_write};
use super::write_tx::WriteTx;
use super::{Services, Written, check_type};
use crate::audit::Action;
use crate::audit::Interaction;
use crate::error::Error;
use crate::fhir::{Issue, IssueType};
use crate::messages::patch::PatchFailure;
use crate::messages::{InteractionMessage, PatchMessage};
use crate::search::SearchQuery;
use crate::store::StoredResource;

/// The media type of a JSON Patch document.
pub const JSON_PATCH: &str = "application/json-patch+json";

/// How often a patch without `If-Match` is applied again when another write came first.
const ATTEMPTS: usize = 3;

/// What a PATCH addresses: one resource by id, or the one its criteria match.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Id(&'a str),
    Criteria(&'a str),
}

impl<'a> Target<'a> {
    /// By id when there is one, else by the criteria.
    pub fn of(id: Option<&'a str>, criteria: &'a str) -> Self {
        id.map_or(Target::Criteria(criteria), Target::Id)
    }
}

/// A parsed JSON Patch document.
#[derive(Debug, Clone)]
pub struct JsonPatch(Vec<PatchOperation>);

impl JsonPatch {
    /// A JSON array of operations; anything else is 400 naming what is wrong.
    pub fn parse(document: Value) -> Result<Self, Error> {
        serde_json::from_value::<json_patch::Patch>(document)
            .map(|p| JsonPatch(p.0))
            .map_err(|e| {
                Error::invalid(
                    PatchMessage::NotAPatch {
                        detail: e.to_string(),
                    },
                    "PATCH",
                )
            })
    }

    /// The JSON Patch a bundle entry carries, by the R4 convention: a Binary whose `contentType`
    /// is `application/json-patch+json` and whose `data` is the patch in base64.
    pub fn from_binary(resource: Option<&Value>) -> Result<Self, Error> {
        use base64::Engine as _;
        let refused = || Error::invalid(PatchMessage::EntryPatchNotBinary, "Bundle.entry.resource");
        let binary = resource
            .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some("Binary"))
            .ok_or_else(refused)?;
        let content_type = binary.get("contentType").and_then(Value::as_str);
        let essence = content_type
            .and_then(|c| c.split(';').next())
            .map(str::trim);
        if !essence.is_some_and(|e| e.eq_ignore_ascii_case(JSON_PATCH)) {
            return Err(refused());
        }
        let data = binary
            .get("data")
            .and_then(Value::as_str)
            .ok_or_else(refused)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| refused())?;
        let document: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::invalid(
                PatchMessage::NotAPatch {
                    detail: e.to_string(),
                },
                "Bundle.entry.resource.data",
            )
        })?;
        Self::parse(document)
    }

    /// `resource` with every operation applied, or 422 naming the first that failed.
    pub fn apply(&self, resource: &Value) -> Result<Value, Error> {
        let mut patched = resource.clone();
        json_patch::patch_unsafe(&mut patched, &self.0).map_err(|e| {
            let why = match e.kind {
                PatchErrorKind::TestFailed => PatchFailure::TestFailed,
                PatchErrorKind::InvalidFromPointer => PatchFailure::BadFrom,
                PatchErrorKind::CannotMoveInsideItself => PatchFailure::MoveIntoItself,
                _ => PatchFailure::BadPath,
            };
            let op = self.0.get(e.operation).map_or("?", op_name).to_string();
            unprocessable(
                PatchMessage::OperationFailed {
                    index: e.operation,
                    op,
                    path: e.path.to_string(),
                    why,
                },
                format!("PATCH[{}]", e.operation),
            )
        })?;
        Ok(patched)
    }
}

/// A patch as the client sent it: a JSON Patch, or a FHIRPath Patch (`Parameters`).
#[derive(Debug, Clone)]
pub enum PatchDocument {
    Json(JsonPatch),
    FhirPath(super::fhirpath_patch::FhirPathPatch),
}

impl PatchDocument {
    /// `resource` patched; a result with another id or resourceType is 422.
    pub fn apply(&self, resource: &Value) -> Result<Value, Error> {
        let patched = match self {
            PatchDocument::Json(p) => p.apply(resource)?,
            PatchDocument::FhirPath(p) => p.apply(resource)?,
        };
        for element in ["resourceType", "id"] {
            if patched.get(element) != resource.get(element) {
                return Err(unprocessable(
                    PatchMessage::ChangesIdentity { element },
                    element.to_string(),
                ));
            }
        }
        Ok(patched)
    }
}

fn op_name(op: &PatchOperation) -> &'static str {
    match op {
        PatchOperation::Add(_) => "add",
        PatchOperation::Remove(_) => "remove",
        PatchOperation::Replace(_) => "replace",
        PatchOperation::Move(_) => "move",
        PatchOperation::Copy(_) => "copy",
        PatchOperation::Test(_) => "test",
    }
}

fn unprocessable(message: PatchMessage, at: String) -> Error {
    Error::Unprocessable(vec![Issue::error(IssueType::Processing, message).at(at)])
}

/// Applies `patch` to the resource `target` names and writes the result as its next version.
pub async fn patch(
    svc: &Services,
    res_type: &str,
    target: Target<'_>,
    patch: &PatchDocument,
    if_match: Option<i64>,
    deadline: Option<Instant>,
) -> Result<Written, Error> {
    let query = check_request(svc, res_type, target)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current = current_of(svc, res_type, target, query.clone()).await?;
        let written = patch_once(svc, &current, patch, if_match, query.clone(), deadline).await;
        match written {
            Err(Error::PreconditionFailed(_)) if if_match.is_none() && attempt < ATTEMPTS => {}
            done => return done,
        }
    }
}

/// The checks that need no database, shared with bundle entries: the parsed criteria of a
/// conditional patch.
pub(crate) fn check_request(
    svc: &Services,
    res_type: &str,
    target: Target<'_>,
) -> Result<Option<SearchQuery>, Error> {
    check_type(res_type)?;
    super::check_served(res_type)?;
    super::access::check_may_write_type(&svc.caller, res_type)?;
    super::terminology::check_writable(res_type, "PATCH")?;
    super::direct_write::refuse_extracted_only(res_type, "PATCH")?;
    match target {
        Target::Id(id) => check_id(res_type, id).map(|()| None),
        Target::Criteria(criteria) => parse_criteria(svc, res_type, criteria).map(Some),
    }
}

/// The version a patch applies to: read through the caller's scope, as a read would be.
pub(crate) async fn current_of(
    svc: &Services,
    res_type: &str,
    target: Target<'_>,
    query: Option<SearchQuery>,
) -> Result<StoredResource, Error> {
    let (t, id) = (
        res_type.to_string(),
        match target {
            Target::Id(id) => Some(id.to_string()),
            Target::Criteria(_) => None,
        },
    );
    let criteria = match target {
        Target::Criteria(c) => c.to_string(),
        Target::Id(_) => String::new(),
    };
    let session = svc.session();
    svc.store
        .read(move |conn| {
            let mut scoped = session.scoped(conn)?;
            let id = match (id, &query) {
                (Some(id), _) => id,
                (None, Some(q)) => one_match(scoped.search(q)?.resources, &t, &criteria)?,
                (None, None) => String::new(),
            };
            read_in(&mut scoped, &t, &id, None)
        })
        .await
}

/// The id of the single resource conditional criteria found: none is 404, several 412.
fn one_match(found: Vec<StoredResource>, res_type: &str, criteria: &str) -> Result<String, Error> {
    match found.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(Error::NotFound {
            res_type: res_type.to_string(),
            id: format!("?{criteria}"),
        }),
        _ => Err(Error::MultipleMatches(
            PatchMessage::UpdateCriteriaSeveral {
                res_type: res_type.to_string(),
            }
            .into(),
        )),
    }
}

/// A patched resource ready to be written: checked and validated as an update's body, to be
/// written only while `version` is still the current version of `res_type/id`.
#[derive(Debug)]
pub(crate) struct Patched {
    pub res_type: String,
    pub id: String,
    pub version: i64,
    pub resource: Value,
}

/// Applies the patch to `current` and checks the result as an update's body would be checked.
pub(crate) async fn prepare(
    svc: &Services,
    current: &StoredResource,
    patch: &PatchDocument,
    if_match: Option<i64>,
) -> Result<Patched, Error> {
    let (res_type, id) = (current.res_type.clone(), current.id.clone());
    if let Some(expected) = if_match
        && expected != current.version
    {
        return Err(Error::PreconditionFailed(
            InteractionMessage::IfMatchOtherVersion {
                expected: expected.to_string(),
                reference: format!("{res_type}/{id}"),
                current: current.version,
                deleted: false,
            }
            .into(),
        ));
    }
    let stored: Value = serde_json::from_str(current.content.as_deref().unwrap_or("{}"))
        .map_err(|e| Error::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
    let patched = patch.apply(&stored)?;
    super::direct_write::refuse_direct_write(&res_type, &patched, "PATCH")?;
    let resource = validate_for_write(svc, patched).await?;
    Ok(Patched {
        res_type,
        id,
        version: current.version,
        resource,
    })
}

/// Applies the patch to `current` and writes the result if `current` is still the current
/// version (and, for criteria, still their one match).
async fn patch_once(
    svc: &Services,
    current: &StoredResource,
    patch: &PatchDocument,
    if_match: Option<i64>,
    query: Option<SearchQuery>,
    deadline: Option<Instant>,
) -> Result<Written, Error> {
    let patched = prepare(svc, current, patch, if_match).await?;
    let session = svc.session();
    // A patch may add a reference: it is held to the same rule as an update.
    let references = super::references::to_check(svc, &patched.res_type, &patched.resource, false);
    let record = svc
        .audit_record(Action::Update, Interaction::Patch)
        .map(|r| r.target(Some(&patched.res_type), Some(&patched.id)));
    svc.write_tx(session, deadline, record, move |tx| {
        if let Some(query) = &query {
            still_the_match(tx, query, &patched.id)?;
        }
        let Patched {
            res_type,
            id,
            version,
            resource,
        } = patched;
        let written = tx.put(&res_type, &id, resource, Some(version))?;
        tx.check_references(&references)?;
        Ok(written)
    })
    .await
}

/// Conditional criteria must still pick `id` alone when the write runs; another resource that
/// came to match meanwhile makes them ambiguous (412).
pub(crate) fn still_the_match(
    tx: &mut WriteTx<'_, '_>,
    query: &SearchQuery,
    id: &str,
) -> Result<(), Error> {
    let found = tx.matches(query)?;
    match found.as_slice() {
        [one] if one.id == id => Ok(()),
        _ => Err(Error::MultipleMatches(
            PatchMessage::UpdateCriteriaSeveral {
                res_type: query.resource_type.clone(),
            }
            .into(),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(ops: Value, resource: Value) -> Result<Value, Error> {
        PatchDocument::Json(JsonPatch::parse(ops)?).apply(&resource)
    }

    #[test]
    fn operations_apply_in_order() {
        let r = json!({"resourceType": "Patient", "id": "p", "gender": "male"});
        let out = apply(
            json!([
                {"op": "test", "path": "/gender", "value": "male"},
                {"op": "replace", "path": "/gender", "value": "female"},
                {"op": "add", "path": "/name", "value": [{"family": "山田"}]},
                {"op": "copy", "from": "/name/0", "path": "/name/-"},
                {"op": "remove", "path": "/name/1"}
            ]),
            r,
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"resourceType": "Patient", "id": "p", "gender": "female",
                   "name": [{"family": "山田"}]})
        );
    }

    #[test]
    fn a_failed_operation_is_422_naming_its_index() {
        let r = json!({"resourceType": "Patient", "id": "p", "gender": "male"});
        let e = apply(
            json!([
                {"op": "replace", "path": "/gender", "value": "female"},
                {"op": "test", "path": "/gender", "value": "male"}
            ]),
            r.clone(),
        )
        .unwrap_err();
        assert_eq!(e.classify().0.as_u16(), 422);
        let issue = &e.outcome().issues[0];
        assert_eq!(issue.expression, vec!["PATCH[1]".to_string()]);
        let e = apply(json!([{"op": "remove", "path": "/birthDate"}]), r).unwrap_err();
        assert_eq!(e.classify().0.as_u16(), 422);
    }

    #[test]
    fn a_patch_may_not_change_id_or_type() {
        let r = json!({"resourceType": "Patient", "id": "p"});
        for ops in [
            json!([{"op": "replace", "path": "/id", "value": "q"}]),
            json!([{"op": "remove", "path": "/id"}]),
            json!([{"op": "replace", "path": "/resourceType", "value": "Group"}]),
        ] {
            let e = apply(ops.clone(), r.clone()).unwrap_err();
            assert_eq!(e.classify().0.as_u16(), 422, "{ops}");
        }
    }

    #[test]
    fn a_body_that_is_no_patch_is_400() {
        for body in [
            json!({"op": "add"}),
            json!([{"op": "frobnicate", "path": "/x"}]),
            json!([{"op": "add", "path": "x", "value": 1}]),
        ] {
            let e = JsonPatch::parse(body.clone()).unwrap_err();
            assert_eq!(e.classify().0.as_u16(), 400, "{body}");
        }
    }
}
