//! One handler per interaction: read the HTTP request, call the interaction, respond.

use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};

use super::negotiate::{self, query_pairs};
use super::{State, body, conditional, respond};
use crate::error::Error;
use crate::fhir::subset::{self, Subset, SummaryRequest};
use crate::interactions::{self, history::HistoryParams, transaction};
use crate::messages::InteractionMessage;
use crate::store::StoredResource;

type Reply = Result<HttpResponse, Error>;

pub(super) fn deadline(state: &State) -> Instant {
    Instant::now() + state.limits.request_timeout
}

/// Bounds a read by the request deadline; reads have no side effects, so abandoning one is safe.
pub(super) async fn within<T>(
    state: &State,
    f: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(state.limits.request_timeout, f)
        .await
        .map_err(|_| Error::ProcessingTimeout)?
}

pub(super) async fn resource_body(
    req: &HttpRequest,
    payload: Payload,
    state: &State,
    deadline: Instant,
) -> Result<serde_json::Value, Error> {
    let format = negotiate::content_type(req)?;
    let bytes = body::read(req, payload, state, deadline).await?;
    body::parse(format, &bytes, &state.limits)
}

pub async fn metadata(state: State, req: HttpRequest) -> Reply {
    let out = negotiate::output(&req)?;
    let mut statement = interactions::capabilities::statement(
        &state.base_url,
        &state.started,
        &super::routes::implemented(),
    );
    interactions::capabilities::declare_reference_policy(
        &mut statement,
        state.services.references.enabled,
    );
    Ok(respond::json(StatusCode::OK, out, statement.to_string()))
}

/// `_summary=true|text|data|false` and `_elements` on a read or vread: the part of the resource
/// the client asked to see, read before the resource so a bad value costs no read.
fn read_subset(req: &HttpRequest) -> Result<Option<Subset>, Error> {
    let invalid = |param: &str, value: &str, reason: crate::messages::requests::SearchReason| {
        Error::Search(crate::search::Error::InvalidValue {
            param: param.to_string(),
            value: value.to_string(),
            reason,
        })
    };
    let (mut summary, mut elements) = (None, None);
    for (name, value) in query_pairs(req.query_string()) {
        if value.is_empty() {
            continue;
        }
        match name.as_str() {
            "_summary" => match subset::summary(&value).map_err(|r| invalid(&name, &value, r))? {
                SummaryRequest::Subset(s) => summary = Some(s),
                SummaryRequest::Whole => {}
                SummaryRequest::Count => {
                    let reason = crate::messages::requests::SearchReason::CountOnRead;
                    return Err(invalid(&name, &value, reason));
                }
            },
            "_elements" => {
                elements = Some(subset::elements(&value).map_err(|r| invalid(&name, &value, r))?)
            }
            _ => {}
        }
    }
    // As in a search, `_summary` wins over `_elements`.
    Ok(summary.or(elements))
}

/// The resource reduced to `subset` (tagged SUBSETTED when something was left out).
fn shown(mut r: StoredResource, subset: Option<&Subset>) -> StoredResource {
    if let (Some(subset), Some(content)) = (subset, &r.content) {
        r.content = Some(subset::apply_text(content, subset));
    }
    r
}

pub async fn read(state: State, req: HttpRequest, t: String, id: String) -> Reply {
    let out = negotiate::output(&req)?;
    let subset = read_subset(&req)?;
    let r = within(&state, interactions::read::read(&state.services, &t, &id)).await?;
    // Asked only now: the read above was scoped and audited, so a 304 is an audited read of
    // what the caller may see, never a hint about what it may not.
    if conditional::not_modified(&req, &r) {
        return Ok(respond::not_modified(&r));
    }
    let r = shown(r, subset.as_ref());
    Ok(respond::resource(
        StatusCode::OK,
        &r,
        out,
        negotiate::Return::Representation,
        None,
    ))
}

pub async fn vread(state: State, req: HttpRequest, t: String, id: String, v: String) -> Reply {
    let out = negotiate::output(&req)?;
    let subset = read_subset(&req)?;
    let r = within(
        &state,
        interactions::read::vread(&state.services, &t, &id, &v),
    )
    .await?;
    if conditional::not_modified(&req, &r) {
        return Ok(respond::not_modified(&r));
    }
    let r = shown(r, subset.as_ref());
    Ok(respond::resource(
        StatusCode::OK,
        &r,
        out,
        negotiate::Return::Representation,
        None,
    ))
}

pub async fn create(state: State, req: HttpRequest, t: String, payload: Payload) -> Reply {
    let deadline = deadline(&state);
    let out = negotiate::output(&req)?;
    let prefer = negotiate::prefer(&req);
    interactions::check_type(&t)?;
    let resource = resource_body(&req, payload, &state, deadline).await?;
    if t == "Bundle" && super::documents::is_submission(&resource) {
        return super::documents::submit(&state, out, prefer, resource, deadline).await;
    }
    let if_none_exist = req
        .headers()
        .get("if-none-exist")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let written = interactions::create::create(
        &state.services,
        &t,
        resource,
        if_none_exist.as_deref(),
        Some(deadline),
    )
    .await?;
    Ok(written_reply(&state, &written, out, prefer.return_))
}

/// `PUT [base]/[type]/[id]`, or with `id` `None`, the conditional `PUT [base]/[type]?criteria`.
pub async fn update(
    state: State,
    req: HttpRequest,
    t: String,
    id: Option<String>,
    payload: Payload,
) -> Reply {
    let deadline = deadline(&state);
    let out = negotiate::output(&req)?;
    let prefer = negotiate::prefer(&req);
    interactions::check_type(&t)?;
    let if_match = negotiate::if_match(&req)?;
    let resource = resource_body(&req, payload, &state, deadline).await?;
    let svc = &state.services;
    let written = match id {
        Some(id) => {
            interactions::update::update(svc, &t, &id, resource, if_match, Some(deadline)).await?
        }
        None => {
            let criteria = req.query_string();
            interactions::conditional_update::conditional_update(
                svc,
                &t,
                criteria,
                resource,
                if_match,
                Some(deadline),
            )
            .await?
        }
    };
    Ok(written_reply(&state, &written, out, prefer.return_))
}

/// The answer to a write: 201 when it created the resource, else 200; `Location` of the version.
pub(super) fn written_reply(
    state: &State,
    written: &interactions::Written,
    out: negotiate::Output,
    return_: negotiate::Return,
) -> HttpResponse {
    let status = if written.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = respond::version_location(&state.base_url, &written.resource);
    respond::resource(status, &written.resource, out, return_, Some(location))
}

pub async fn delete(state: State, req: HttpRequest, t: String, id: String) -> Reply {
    let out = negotiate::output(&req)?;
    if t == "Bundle"
        && let Some(done) = super::documents::cancel_bundle(&state, out, &id).await?
    {
        return Ok(done);
    }
    let version =
        interactions::delete::delete(&state.services, &t, &id, Some(deadline(&state))).await?;
    let mut response = HttpResponse::NoContent().finish();
    if let Some(v) =
        version.and_then(|v| actix_web::http::header::HeaderValue::from_str(&respond::etag(v)).ok())
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::ETAG, v);
    }
    Ok(response)
}

/// `GET [base]/Patient/{id}/$summary`.
pub async fn summary(state: State, req: HttpRequest, id: String) -> Reply {
    let out = negotiate::output(&req)?;
    crate::interactions::write::check_id("Patient", &id)?;
    let bundle = within(
        &state,
        crate::submissions::summary::summary(&state.services, &state.base_url, &id),
    )
    .await?;
    Ok(respond::json(StatusCode::OK, out, bundle.to_string()))
}

/// `DELETE [base]/[type]?criteria`. A Bundle-ID (`Bundle?identifier=`) deletes its report unit
/// whole; `patient-identifier` picks the unit when the Bundle-ID names several. A document
/// identifier (`Bundle?document-identifier=`) cancels the document.
pub async fn conditional_delete(state: State, req: HttpRequest, t: String) -> Reply {
    let out = negotiate::output(&req)?;
    let query = req.query_string().to_string();
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let deadline = Some(deadline(&state));
    if t == "Bundle" && params.iter().any(|(k, _)| k == "document-identifier") {
        return super::documents::cancel(&state, out, &params).await;
    }
    if t == "Bundle"
        && let Some((_, identifier)) = params.iter().find(|(k, _)| k == "identifier")
    {
        let patient = params
            .iter()
            .find(|(k, _)| k == "patient-identifier")
            .map(|(_, v)| v.clone());
        if let Some((k, _)) = params
            .iter()
            .find(|(k, _)| k != "identifier" && k != "patient-identifier")
        {
            return Err(crate::error::Error::invalid(
                InteractionMessage::UnitDeleteParameter {
                    parameter: k.clone(),
                },
                k.clone(),
            ));
        }
        let deleted =
            crate::submissions::delete_units(&state.services, identifier, patient, deadline)
                .await?;
        let outcome = crate::fhir::OperationOutcome::single(crate::fhir::Issue::information(
            InteractionMessage::UnitDeleted {
                resources: deleted.resources,
            },
        ));
        return Ok(respond::outcome(StatusCode::OK, out, &outcome));
    }
    let version =
        interactions::delete::conditional_delete(&state.services, &t, &query, deadline).await?;
    let mut response = HttpResponse::NoContent().finish();
    if let Some(v) =
        version.and_then(|v| actix_web::http::header::HeaderValue::from_str(&respond::etag(v)).ok())
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::ETAG, v);
    }
    Ok(response)
}

async fn run_search(
    state: State,
    req: HttpRequest,
    t: String,
    params: Vec<(String, String)>,
) -> Reply {
    let out = negotiate::output(&req)?;
    let prefer = negotiate::prefer(&req);
    let query = interactions::search::parse(&state.services, &t, &params, prefer.strict)?;
    let page = within(
        &state,
        interactions::search::search(&state.services, query.clone()),
    )
    .await?;
    Ok(respond::searchset(&state, &query, &page, out))
}

pub async fn search(state: State, req: HttpRequest, t: String) -> Reply {
    let params = query_pairs(req.query_string());
    run_search(state, req, t, params).await
}

/// POST [type]/_search: parameters from the form body and the query string together.
pub async fn search_post(state: State, req: HttpRequest, t: String, payload: Payload) -> Reply {
    let params = search_form(&state, &req, payload).await?;
    run_search(state, req, t, params).await
}

/// The parameters of a `_search` POST: the query string, then the form body.
pub(super) async fn search_form(
    state: &State,
    req: &HttpRequest,
    payload: Payload,
) -> Result<Vec<(String, String)>, Error> {
    let deadline = deadline(state);
    let mime = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !mime.starts_with("application/x-www-form-urlencoded") {
        return Err(Error::UnsupportedMediaType(
            "_search takes application/x-www-form-urlencoded".into(),
        ));
    }
    let bytes = body::read(req, payload, state, deadline).await?;
    let mut params = query_pairs(req.query_string());
    params.extend(form_urlencoded::parse(&bytes).into_owned());
    Ok(params)
}

/// `GET [base]?_type=…` and `POST [base]/_search`.
async fn run_search_system(state: State, req: HttpRequest, params: Vec<(String, String)>) -> Reply {
    let out = negotiate::output(&req)?;
    let prefer = negotiate::prefer(&req);
    let query = interactions::system_search::parse(&state.services, &params, prefer.strict)?;
    let page = within(
        &state,
        interactions::system_search::search(&state.services, query.clone()),
    )
    .await?;
    Ok(respond::searchset(&state, &query, &page, out))
}

pub async fn search_system(state: State, req: HttpRequest) -> Reply {
    let params = query_pairs(req.query_string());
    run_search_system(state, req, params).await
}

pub async fn search_system_post(state: State, req: HttpRequest, payload: Payload) -> Reply {
    let params = search_form(&state, &req, payload).await?;
    run_search_system(state, req, params).await
}

async fn run_history(
    state: State,
    req: HttpRequest,
    t: Option<String>,
    id: Option<String>,
) -> Reply {
    let out = negotiate::output(&req)?;
    let pairs = query_pairs(req.query_string());
    let params = HistoryParams::parse(&state.services, &pairs)?;
    let (count, offset, applied) = (params.count, params.offset, params.applied.clone());
    let page = within(
        &state,
        interactions::history::history(&state.services, t.as_deref(), id.as_deref(), params),
    )
    .await?;
    let path = match (&t, &id) {
        (Some(t), Some(id)) => format!("{t}/{id}/_history"),
        (Some(t), None) => format!("{t}/_history"),
        _ => "_history".to_string(),
    };
    Ok(respond::history(
        &state, &path, &page, count, offset, &applied, out,
    ))
}

pub async fn history_instance(state: State, req: HttpRequest, t: String, id: String) -> Reply {
    run_history(state, req, Some(t), Some(id)).await
}

pub async fn history_type(state: State, req: HttpRequest, t: String) -> Reply {
    run_history(state, req, Some(t), None).await
}

pub async fn history_system(state: State, req: HttpRequest) -> Reply {
    run_history(state, req, None, None).await
}

pub async fn transaction(state: State, req: HttpRequest, payload: Payload) -> Reply {
    let deadline = deadline(&state);
    let out = negotiate::output(&req)?;
    let prefer = negotiate::prefer(&req);
    let bundle = resource_body(&req, payload, &state, deadline).await?;
    let (kind, results) =
        transaction::process(&state.services, bundle, &state.base_url, Some(deadline)).await?;
    Ok(respond::transaction(
        &state,
        kind,
        &results,
        prefer.return_,
        out,
    ))
}

pub async fn validate(
    state: State,
    req: HttpRequest,
    t: Option<String>,
    id: Option<String>,
    payload: Payload,
) -> Reply {
    let deadline = deadline(&state);
    let out = negotiate::output(&req)?;
    let body = if req.method() == actix_web::http::Method::POST {
        Some(resource_body(&req, payload, &state, deadline).await?)
    } else {
        None
    };
    let request =
        interactions::validate::ValidateRequest::parse(body, &query_pairs(req.query_string()))?;
    let outcome = within(
        &state,
        interactions::validate::validate(
            &state.services,
            t.as_deref(),
            id.as_deref(),
            request,
            interactions::validate::Judge {
                part: crate::submissions::verdict::judged_part,
                verdict: crate::submissions::verdict::validate,
            },
        ),
    )
    .await?;
    Ok(respond::outcome(StatusCode::OK, out, &outcome))
}
