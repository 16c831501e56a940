//! Handlers of the terminology routes: CodeSystem/ValueSet read and search, and the `$lookup`,
//! `$validate-code` and `$expand` operations (GET with query parameters, POST with a Parameters
//! body).

use actix_web::HttpRequest;
use actix_web::http::{Method, StatusCode};
use actix_web::web::Payload;

use super::handlers::{deadline, resource_body, search_form, within};
use super::negotiate::{self, query_pairs};
use super::{State, respond};
use crate::error::Error;
use crate::interactions::terminology::{self, Inputs, resources};

type Reply = Result<actix_web::HttpResponse, Error>;

async fn inputs(state: &State, req: &HttpRequest, payload: Payload) -> Result<Inputs, Error> {
    let body = if req.method() == Method::POST {
        Some(resource_body(req, payload, state, deadline(state)).await?)
    } else {
        None
    };
    Inputs::parse(body, &query_pairs(req.query_string()))
}

pub async fn lookup(state: State, req: HttpRequest, payload: Payload) -> Reply {
    let out = negotiate::output(&req)?;
    let inputs = inputs(&state, &req, payload).await?;
    let answer = within(&state, terminology::lookup::lookup(&state.services, inputs)).await?;
    Ok(respond::json(StatusCode::OK, out, answer.to_string()))
}

pub async fn validate_code(
    state: State,
    req: HttpRequest,
    t: String,
    id: Option<String>,
    payload: Payload,
) -> Reply {
    let out = negotiate::output(&req)?;
    let inputs = inputs(&state, &req, payload).await?;
    let answer = within(
        &state,
        terminology::validate_code::validate_code(&state.services, &t, id.as_deref(), inputs),
    )
    .await?;
    Ok(respond::json(StatusCode::OK, out, answer.to_string()))
}

pub async fn expand(state: State, req: HttpRequest, id: Option<String>, payload: Payload) -> Reply {
    let out = negotiate::output(&req)?;
    let inputs = inputs(&state, &req, payload).await?;
    let answer = within(
        &state,
        terminology::expand::expand(&state.services, id.as_deref(), inputs),
    )
    .await?;
    Ok(respond::json(StatusCode::OK, out, answer.to_string()))
}

pub async fn read(state: State, req: HttpRequest, t: String, id: String) -> Reply {
    let out = negotiate::output(&req)?;
    let resource = within(&state, resources::read(&state.services, &t, &id)).await?;
    Ok(respond::json(StatusCode::OK, out, resource.to_string()))
}

async fn run_search(
    state: State,
    req: HttpRequest,
    t: String,
    params: Vec<(String, String)>,
) -> Reply {
    let out = negotiate::output(&req)?;
    let strict = negotiate::prefer(&req).strict;
    let criteria = resources::parse(&state.services, &t, &params, strict)?;
    let page = within(&state, resources::search(&state.services, criteria.clone())).await?;
    Ok(respond::terminology_searchset(
        &state, &t, &criteria, &page, out,
    ))
}

pub async fn search(state: State, req: HttpRequest, t: String) -> Reply {
    let params = query_pairs(req.query_string());
    run_search(state, req, t, params).await
}

pub async fn search_post(state: State, req: HttpRequest, t: String, payload: Payload) -> Reply {
    let params = search_form(&state, &req, payload).await?;
    run_search(state, req, t, params).await
}
