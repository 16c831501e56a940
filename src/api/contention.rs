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

/// Counts and logs `e` if a concurrent transaction caused it; nothing otherwise.
pub(super) fn note(state: &State, req: &HttpRequest, e: &Error) {
    let Some(kind) = e.contention() else {
        return;
    };
    state.metrics.contention(kind.as_str());
    let (interaction, res_type) = match resolve(req.method(), req.path()) {
        Ok((route, _)) => {
            let (interaction, res_type, _) = route.audit_target();
            (Some(interaction.as_str()), res_type.map(str::to_string))
        }
        Err(_) => (None, None),
    };
    let route = req
        .extensions()
        .get::<Template>()
        .map_or("(unmatched)", |t| t.0);
    tracing::warn!(
        kind = kind.as_str(),
        interaction = interaction.unwrap_or("(none)"),
        resource_type = res_type.as_deref().unwrap_or("(none)"),
        method = %req.method(),
        route,
        status = e.classify().0.as_u16(),
        "request lost to a concurrent transaction"
    );
}
