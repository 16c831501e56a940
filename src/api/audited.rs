//! The audit record of a request the HTTP layer answers itself: a refusal or failure (unknown
//! route or method, refused emergency declaration, any error of a handler) and a success that
//! no interaction recorded. Interactions record what they read and wrote; this is the rest, so
//! no request of an authenticated caller goes unrecorded (DESIGN §9).

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};

use super::State;
use crate::audit::{Action, AuditRecord, Interaction, Touch};
use crate::error::Error;

/// The record of `req` by the state's caller, naming the resource it addressed (so the
/// patient's trail shows the attempt).
pub(super) fn record_of(
    state: &State,
    req: &HttpRequest,
    interaction: Interaction,
    t: Option<String>,
    id: Option<String>,
) -> Option<AuditRecord> {
    let action = match *req.method() {
        Method::GET | Method::HEAD => Action::Read,
        Method::PUT => Action::Update,
        Method::DELETE => Action::Delete,
        _ if interaction == Interaction::Create => Action::Create,
        _ => Action::Execute,
    };
    state.services.audit_record(action, interaction).map(|r| {
        let mut r = r.target(t.as_deref(), id.as_deref());
        if let (Some(t), Some(id)) = (t, id) {
            r.entities.push(Touch::named(t, id));
        }
        r
    })
}

/// Records the refusal or failure `e` of `req`, then answers it; a refusal whose record cannot
/// be stored answers 503 like any other request.
pub(super) async fn refused(
    state: &State,
    req: &HttpRequest,
    interaction: Interaction,
    t: Option<String>,
    id: Option<String>,
    e: Error,
) -> Result<HttpResponse, Error> {
    let status = e.classify().0.as_u16();
    let issues = e.outcome().issues.len();
    let record = record_of(state, req, interaction, t, id).map(|r| r.failed(status, issues));
    state.services.audit(record).await?;
    Err(e)
}

/// The type and id a request addressed whose route or method does not exist, read from the
/// path where its shape is known (`/{type}/{id}`, `/Patient/{id}/$summary`…).
pub(super) fn error_target(path: &str, template: &str) -> (Option<String>, Option<String>) {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let shape: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let t = match (shape.first(), parts.first()) {
        (Some(&s), Some(&p)) if (s == "{type}" || s == p) && crate::fhir::is_resource_type(p) => {
            Some(p.to_string())
        }
        _ => return (None, None),
    };
    let id = match (shape.get(1), parts.get(1)) {
        (Some(&"{id}"), Some(&p)) => Some(p.to_string()),
        _ => None,
    };
    (t, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_shape_names_its_target_and_an_unknown_one_nothing() {
        let named = |t: &str, id: Option<&str>| (Some(t.to_string()), id.map(str::to_string));
        assert_eq!(
            error_target("/Observation/1", "/{type}/{id}"),
            named("Observation", Some("1"))
        );
        assert_eq!(
            error_target("/Patient/p/$summary", "/Patient/{id}/$summary"),
            named("Patient", Some("p"))
        );
        assert_eq!(
            error_target("/Observation/_search", "/{type}/_search"),
            named("Observation", None)
        );
        assert_eq!(error_target("/a/b/c/d/e", "(unmatched)"), (None, None));
        assert_eq!(error_target("/Nothing/1", "/{type}/{id}"), (None, None));
    }
}
