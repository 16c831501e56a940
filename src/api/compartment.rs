//! Handlers of the patient compartment: `Patient/{id}/[type]` search (GET, and POST
//! `…/_search`) and `Patient/{id}/$everything` (GET with query parameters, POST with a
//! Parameters body).

use actix_web::HttpRequest;
use actix_web::http::{Method, StatusCode};
use actix_web::web::Payload;
use serde_json::Value;

use super::handlers::{deadline, resource_body, search_form, within};
use super::negotiate::{self, query_pairs};
use super::{State, respond};
use crate::error::Error;
use crate::fhir::bundle::{BundleBuilder, Entry};
use crate::fhir::instant::to_fhir_instant;
use crate::interactions::compartment;
use crate::interactions::everything::{self, CURSOR, EverythingPage, EverythingRequest};
use crate::messages::InteractionMessage;
use crate::store::StoredResource;

type Reply = Result<actix_web::HttpResponse, Error>;

pub async fn search(state: State, req: HttpRequest, patient: String, t: String) -> Reply {
    let params = query_pairs(req.query_string());
    run_search(state, req, patient, t, params).await
}

pub async fn search_post(
    state: State,
    req: HttpRequest,
    patient: String,
    t: String,
    payload: Payload,
) -> Reply {
    let params = search_form(&state, &req, payload).await?;
    run_search(state, req, patient, t, params).await
}

async fn run_search(
    state: State,
    req: HttpRequest,
    patient: String,
    t: String,
    params: Vec<(String, String)>,
) -> Reply {
    let out = negotiate::output(&req)?;
    let prefer = negotiate::prefer(&req);
    let query = compartment::parse(&state.services, &patient, &t, &params, prefer.strict)?;
    let (_, page) = within(&state, compartment::search(&state.services, query.clone())).await?;
    Ok(respond::searchset(&state, &query, &page, out))
}

pub async fn everything(
    state: State,
    req: HttpRequest,
    patient: String,
    payload: Payload,
) -> Reply {
    let out = negotiate::output(&req)?;
    let mut params = query_pairs(req.query_string());
    if req.method() == Method::POST {
        let body = resource_body(&req, payload, &state, deadline(&state)).await?;
        params.extend(parameters(&body)?);
    }
    let request = EverythingRequest::parse(&state.services, &patient, &params)?;
    let page = within(
        &state,
        everything::everything(&state.services, request.clone()),
    )
    .await?;
    Ok(respond::json(
        StatusCode::OK,
        out,
        bundle(&state, &request, &page),
    ))
}

/// The `name`/`value[x]` pairs of a Parameters body, values as they would be written in a query.
fn parameters(body: &Value) -> Result<Vec<(String, String)>, Error> {
    if body.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
        return Err(Error::invalid(
            InteractionMessage::EverythingNotParameters,
            "resourceType",
        ));
    }
    let mut out = Vec::new();
    for p in body
        .get("parameter")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = p.get("name").and_then(Value::as_str).ok_or_else(|| {
            Error::invalid(
                crate::messages::TerminologyMessage::ParameterWithoutName,
                "Parameters.parameter.name",
            )
        })?;
        let value = p.as_object().and_then(|o| {
            o.iter()
                .find(|(k, _)| k.starts_with("value"))
                .map(|(_, v)| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
        });
        if let Some(value) = value {
            out.push((name.to_string(), value));
        }
    }
    Ok(out)
}

/// The searchset of one page: matches, then their includes; `self` and `next` in the
/// operation's own form.
fn bundle(state: &State, request: &EverythingRequest, page: &EverythingPage) -> String {
    let base = &state.base_url;
    let link = |after: Option<i64>| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in request.applied() {
            s.append_pair(&k, &v);
        }
        if let Some(after) = after {
            s.append_pair(CURSOR, &after.to_string());
        }
        format!(
            "{base}/Patient/{}/$everything?{}",
            request.patient,
            s.finish()
        )
    };
    let mut links = vec![("self", link(request.after))];
    if request.after.is_some() {
        links.push(("first", link(None)));
    }
    if let Some(next) = page.next {
        links.push(("next", link(Some(next))));
    }
    let now = to_fhir_instant(state.services.clock.now_micros());
    let mut b = BundleBuilder::new("searchset", &respond::bundle_id(), &now, page.total, &links);
    let mut add = |r: &StoredResource, mode: &'static str| {
        b.entry(Entry {
            full_url: Some(format!("{base}/{}/{}", r.res_type, r.id)),
            resource: r.content.as_deref(),
            search_mode: Some(mode),
            ..Entry::default()
        });
    };
    page.matches.iter().for_each(|r| add(r, "match"));
    page.includes.iter().for_each(|r| add(r, "include"));
    b.finish()
}
