//! Handlers of the audit trail routes (`GET AuditEvent`, `GET AuditEvent/{id}`).

use actix_web::HttpRequest;
use actix_web::http::StatusCode;

use super::State;
use super::handlers::within;
use super::negotiate::{self, query_pairs};
use super::respond::{self, Paging};
use crate::error::Error;
use crate::interactions::audit_events::{self, AuditQuery};

type Reply = Result<actix_web::HttpResponse, Error>;

pub async fn search(state: State, req: HttpRequest) -> Reply {
    let out = negotiate::output(&req)?;
    let query = AuditQuery::parse(&state.services, &query_pairs(req.query_string()))?;
    let (events, total) = within(&state, audit_events::search(&state.services, &query)).await?;
    let paging = Paging {
        applied: &query.applied,
        count: query.count,
        offset: query.offset,
        ignored: &query.ignored,
    };
    Ok(respond::value_searchset(
        &state,
        "AuditEvent",
        &paging,
        &events,
        total,
        out,
    ))
}

pub async fn read(state: State, req: HttpRequest, id: String) -> Reply {
    let out = negotiate::output(&req)?;
    let event = within(&state, audit_events::read(&state.services, &id)).await?;
    Ok(respond::json(StatusCode::OK, out, event.to_string()))
}
