//! `$validate` at system, type and instance level: the validator's verdict without storing; a
//! report unit or a CLINS document gets the verdict its submission would, through the [`Judge`]
//! the caller hands in (the service rules live above this layer, in `submissions::verdict`).
//! The body is a Parameters resource (`resource`, `profile`, `mode`) or the plain resource with
//! `profile`/`mode` in the query. The answer is an OperationOutcome; its status is 200 whether or
//! not the resource is valid (the operation itself succeeded).
//! Spec: <https://hl7.org/fhir/R4/resource-operation-validate.html>

use std::borrow::Cow;

use serde_json::Value;

use super::{Services, check_type};
use crate::error::Error;
use crate::fhir::{Issue, IssueType, OperationOutcome};
use crate::messages::InteractionMessage;
use crate::validation::Validator;

/// How the caller judges a resource without storing it. The HTTP layer passes
/// `submissions::verdict`'s `judged_part` and `validate`, which judge report units and documents
/// as their submission would be judged.
#[derive(Clone, Copy)]
pub struct Judge {
    /// The part of the resource its verdict reads: the stored Questionnaires its responses name
    /// are looked up (and their reads audited) in that part only.
    pub part: for<'a> fn(&'a Value) -> Cow<'a, Value>,
    /// `(validator, resource, profile, questionnaires)`, the questionnaires being the stored
    /// ones the caller may read.
    pub verdict: fn(&Validator, &Value, Option<&str>, &[Value]) -> Vec<Issue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No mode: the resource as it stands.
    Plain,
    Create,
    Update,
    Delete,
    Profile,
}

#[derive(Debug, Clone)]
pub struct ValidateRequest {
    pub resource: Option<Value>,
    pub profile: Option<String>,
    pub mode: Mode,
}

fn parse_mode(text: &str) -> Result<Mode, Error> {
    match text {
        "create" => Ok(Mode::Create),
        "update" => Ok(Mode::Update),
        "delete" => Ok(Mode::Delete),
        "profile" => Ok(Mode::Profile),
        other => Err(Error::invalid(
            format!("mode '{other}' is not create, update, delete or profile"),
            "mode",
        )),
    }
}

impl ValidateRequest {
    /// Reads the Parameters form or the plain-resource form; query parameters fill what the body
    /// does not say.
    pub fn parse(body: Option<Value>, query: &[(String, String)]) -> Result<Self, Error> {
        let mut req = ValidateRequest {
            resource: None,
            profile: None,
            mode: Mode::Plain,
        };
        match body {
            Some(b) if b.get("resourceType").and_then(Value::as_str) == Some("Parameters") => {
                for p in b
                    .get("parameter")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    match p.get("name").and_then(Value::as_str) {
                        Some("resource") => req.resource = p.get("resource").cloned(),
                        Some("profile") => {
                            req.profile = ["valueUri", "valueCanonical", "valueString"]
                                .iter()
                                .find_map(|k| p.get(*k).and_then(Value::as_str))
                                .map(str::to_string);
                        }
                        Some("mode") => {
                            if let Some(m) = p.get("valueCode").and_then(Value::as_str) {
                                req.mode = parse_mode(m)?;
                            }
                        }
                        _ => {}
                    }
                }
            }
            other => req.resource = other,
        }
        for (k, v) in query {
            match k.as_str() {
                "profile" if req.profile.is_none() => req.profile = Some(v.clone()),
                "mode" if req.mode == Mode::Plain => req.mode = parse_mode(v)?,
                _ => {}
            }
        }
        Ok(req)
    }
}

/// `res_type`/`id` give the level: none → system, type → type, both → instance; `judge` gives
/// the verdict on the resource.
pub async fn validate(
    svc: &Services,
    res_type: Option<&str>,
    id: Option<&str>,
    req: ValidateRequest,
    judge: Judge,
) -> Result<OperationOutcome, Error> {
    if let Some(t) = res_type {
        check_type(t)?;
    }
    if req.mode == Mode::Delete {
        return Ok(OperationOutcome::single(Issue::information(
            InteractionMessage::DeleteAlwaysAllowed,
        )));
    }
    let resource = match (req.resource, res_type, id) {
        (Some(r), _, _) => r,
        // Instance level without a body: validate what is stored.
        (None, Some(t), Some(i)) => {
            let stored = super::read::read(svc, t, i).await?;
            serde_json::from_str(stored.content.as_deref().unwrap_or("{}"))
                .map_err(|e| Error::Store(crate::store::StoreError::Corrupt(e.to_string())))?
        }
        (None, _, _) => {
            return Err(Error::invalid(
                InteractionMessage::ValidateNeedsResource,
                "resource",
            ));
        }
    };
    let mut issues = Vec::new();
    let body_type = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if let Some(t) = res_type
        && body_type != t
    {
        issues.push(
            Issue::error(
                IssueType::Invalid,
                InteractionMessage::ValidateTypeMismatch {
                    body: body_type.clone(),
                    url: t.to_string(),
                },
            )
            .at(format!("{body_type}.resourceType")),
        );
    }
    if let (Mode::Update, Some(i)) = (req.mode, id)
        && resource.get("id").and_then(Value::as_str) != Some(i)
    {
        issues.push(
            Issue::error(
                IssueType::Invalid,
                InteractionMessage::ValidateUpdateId { id: i.to_string() },
            )
            .at(format!("{body_type}.id")),
        );
    }
    let questionnaires = {
        let part = (judge.part)(&resource);
        super::questionnaires::stored_for(svc, &part).await?
    };
    let validator = svc.validator.clone();
    let profile = req.profile;
    let found = svc
        .cpu
        .run(move || (judge.verdict)(&validator, &resource, profile.as_deref(), &questionnaires))
        .await?;
    issues.extend(found);
    Ok(OperationOutcome::new(issues))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_form_is_read() {
        let body = json!({"resourceType": "Parameters", "parameter": [
            {"name": "resource", "resource": {"resourceType": "Patient"}},
            {"name": "profile", "valueUri": "http://x/p"},
            {"name": "mode", "valueCode": "update"}
        ]});
        let req = ValidateRequest::parse(Some(body), &[]).unwrap();
        assert_eq!(req.resource.unwrap()["resourceType"], "Patient");
        assert_eq!(req.profile.as_deref(), Some("http://x/p"));
        assert_eq!(req.mode, Mode::Update);
    }

    #[test]
    fn plain_form_takes_profile_from_the_query() {
        let req = ValidateRequest::parse(
            Some(json!({"resourceType": "Patient"})),
            &[("profile".into(), "http://x/p".into())],
        )
        .unwrap();
        assert_eq!(req.profile.as_deref(), Some("http://x/p"));
        assert!(ValidateRequest::parse(None, &[("mode".into(), "bogus".into())]).is_err());
    }
}
