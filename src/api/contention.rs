//! The requests that failed on contention with a concurrent transaction (a PostgreSQL deadlock
//! or serialization failure, a key taken meanwhile, a SQLite file locked by another process):
//! counted by kind (`kyoyu_db_contention_total`) and logged as a warning, so that a rise shows
//! before clients retrying hide it. The log names the kind, the interaction, the resource type,
//! the route template and the status: never an id, a query or the database's message, which
//! can quote stored values.

use actix_web::{HttpMessage, HttpRequest};

use super::State;
use super::routes::{Template, resolve};
use crate::error::Error;

/// What the log says of a request lost to contention: fixed texts and a resource type only.
#[derive(Debug, PartialEq, Eq)]
struct Lost {
    kind: &'static str,
    interaction: &'static str,
    resource_type: Option<String>,
    route: &'static str,
    status: u16,
}

/// Counts and logs `e` if a concurrent transaction caused it; nothing otherwise.
pub(super) fn note(state: &State, req: &HttpRequest, e: &Error) {
    let Some(lost) = lost(req, e) else {
        return;
    };
    state.metrics.contention(lost.kind);
    tracing::warn!(
        kind = lost.kind,
        interaction = lost.interaction,
        resource_type = lost.resource_type.as_deref().unwrap_or("(none)"),
        method = %req.method(),
        route = lost.route,
        status = lost.status,
        "request lost to a concurrent transaction"
    );
}

fn lost(req: &HttpRequest, e: &Error) -> Option<Lost> {
    let kind = e.contention()?.as_str();
    let (interaction, resource_type) = match resolve(req.method(), req.path()) {
        Ok((route, _)) => {
            let (interaction, res_type, _) = route.audit_target();
            (interaction.as_str(), res_type.map(str::to_string))
        }
        Err(_) => ("(none)", None),
    };
    let route = req
        .extensions()
        .get::<Template>()
        .map_or("(unmatched)", |t| t.0);
    Some(Lost {
        kind,
        interaction,
        resource_type,
        route,
        status: e.classify().0.as_u16(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;
    use actix_web::test::TestRequest;

    /// The record of a lost request names what was asked of which type, never the id in the
    /// path nor the database's words; a failure of another cause is not one.
    #[test]
    fn a_lost_request_is_told_by_kind_interaction_and_type_only() {
        let req = TestRequest::put()
            .uri("/Patient/secret-id-4711?identifier=secret")
            .to_http_request();
        req.extensions_mut().insert(Template("/{type}/{id}"));
        let deadlock = Error::Store(StoreError::Deadlock("secret row (4711)".into()));
        let told = lost(&req, &deadlock);
        assert_eq!(
            told,
            Some(Lost {
                kind: "deadlock",
                interaction: "update",
                resource_type: Some("Patient".into()),
                route: "/{type}/{id}",
                status: 409,
            })
        );
        assert!(!format!("{told:?}").contains("secret"), "{told:?}");
        let busy = Error::Store(StoreError::Busy("database is locked".into()));
        assert_eq!(
            lost(&req, &busy).map(|l| (l.kind, l.status)),
            Some(("busy", 503))
        );
        assert_eq!(lost(&req, &Error::Store(StoreError::Timeout)), None);
    }
}
