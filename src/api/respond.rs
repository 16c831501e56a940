//! Turning interaction results into HTTP responses: headers (ETag, Last-Modified, Location),
//! `Prefer: return`, the negotiated format (JSON or XML, pretty or not), and the Bundles of
//! search, history and transactions.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{
    CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderValue, LAST_MODIFIED, LOCATION,
};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

use super::AppState;
use super::language_headers::{localised, vary_on_language};
use super::negotiate::{self, Format, Output, Return};
use crate::error::Error;
use crate::fhir::bundle::{BundleBuilder, Entry};
use crate::fhir::instant::{to_fhir_instant, to_http_date};
use crate::fhir::subset;
use crate::fhir::xml::{self, XmlError};
use crate::fhir::{Issue, IssueType, OperationOutcome};
use crate::interactions::terminology::resources::{Criteria, Page};
use crate::interactions::transaction::{BundleKind, EntryResult};
use crate::messages::{InteractionMessage, Language, RequestMessage};
use crate::search::SearchQuery;
use crate::store::{HistoryPage, SearchPage, StoredResource};

pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// A body, given as the JSON text of the internal form, in the negotiated format and media type;
/// pretty-printed on `_pretty=true`.
pub fn json(status: StatusCode, out: Output, text: String) -> HttpResponse {
    let body = match out.format {
        Format::Json if out.pretty => serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or(text),
        Format::Json => text,
        Format::Xml => match xml_text(&text, out.pretty) {
            Ok(xml) => xml,
            Err(e) => return Error::from(e).error_response(),
        },
    };
    let mut response = HttpResponse::build(status).body(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(out.mime));
    response
}

fn xml_text(json: &str, pretty: bool) -> Result<String, XmlError> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| XmlError::Unwritable(e.to_string()))?;
    xml::to_xml(&value, pretty)
}

/// An OperationOutcome in the negotiated format, its texts in the negotiated language.
pub fn outcome(status: StatusCode, out: Output, outcome: &OperationOutcome) -> HttpResponse {
    let text = outcome.to_json_in(out.language).to_string();
    let mut response = json(status, out, text);
    localised(response.headers_mut(), out.language);
    response
}

/// Error responses are built without the request (`ResponseError`), so in JSON and English;
/// this middleware writes their OperationOutcome again in the language and format the request
/// negotiated (an error that did not travel with its response stays in English).
pub async fn outcome_in_format(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let xml = negotiate::output(req.request())
        .ok()
        .filter(|o| o.format == Format::Xml);
    let language = negotiate::language(req.request());
    let mut response = next.call(req).await?;
    let is_json_error = response.status().as_u16() >= 400
        && response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/fhir+json"));
    if is_json_error {
        vary_on_language(response.headers_mut());
    }
    if !is_json_error || (xml.is_none() && language == Language::English) {
        return Ok(response.map_into_boxed_body());
    }
    let translated = (language != Language::English)
        .then(|| response.response().error()?.as_error::<Error>())
        .flatten()
        .map(|e| e.outcome().to_json_in(language).to_string());
    let (req, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let was_localised = translated.is_some();
    let text = match translated {
        Some(text) => text,
        None => actix_web::body::to_bytes(body)
            .await
            .ok()
            .and_then(|b| String::from_utf8(b.to_vec()).ok())
            .unwrap_or_default(),
    };
    let out = xml.unwrap_or(Output {
        format: Format::Json,
        pretty: false,
        mime: super::FHIR_JSON,
        language,
    });
    let mut rewritten = json(head.status(), out, text);
    for (name, value) in head.headers() {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    if was_localised {
        localised(rewritten.headers_mut(), language);
    }
    Ok(ServiceResponse::new(req, rewritten))
}

fn version_headers(response: &mut HttpResponse, r: &StoredResource) {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag(r.version)) {
        headers.insert(ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&to_http_date(r.last_updated)) {
        headers.insert(LAST_MODIFIED, v);
    }
}

/// 304 to a conditional read: no body, the version's ETag and Last-Modified (RFC 9110 §15.4.5).
pub fn not_modified(r: &StoredResource) -> HttpResponse {
    let mut response = HttpResponse::NotModified().finish();
    version_headers(&mut response, r);
    response
}

pub fn version_location(base: &str, r: &StoredResource) -> String {
    format!("{base}/{}/{}/_history/{}", r.res_type, r.id, r.version)
}

/// A single resource (read, vread, create, update), honouring `Prefer: return`.
pub fn resource(
    status: StatusCode,
    r: &StoredResource,
    out: Output,
    prefer: Return,
    location: Option<String>,
) -> HttpResponse {
    let mut response = match prefer {
        Return::Minimal => HttpResponse::build(status).finish(),
        Return::OperationOutcome => {
            let stored = stored_note(r, status == StatusCode::CREATED);
            outcome(status, out, &OperationOutcome::single(stored))
        }
        Return::Representation => json(status, out, r.content.clone().unwrap_or_default()),
    };
    version_headers(&mut response, r);
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

/// A registered submission: the stored Bundle, or under `Prefer: return=OperationOutcome` what
/// was done and every warning (entries discarded, MedicationRequests not processed…).
pub fn submitted(
    status: StatusCode,
    r: &StoredResource,
    out: Output,
    prefer: Return,
    location: String,
    warnings: &[Issue],
) -> HttpResponse {
    if prefer != Return::OperationOutcome {
        return resource(status, r, out, prefer, Some(location));
    }
    let mut issues = vec![stored_note(r, false)];
    issues.extend(warnings.iter().cloned());
    let mut response = outcome(status, out, &OperationOutcome::new(issues));
    version_headers(&mut response, r);
    if let Ok(l) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, l);
    }
    response
}

/// What a write did, told under `Prefer: return=OperationOutcome`.
fn stored_note(r: &StoredResource, created: bool) -> Issue {
    Issue::information(RequestMessage::Stored {
        reference: format!("{}/{}", r.res_type, r.id),
        version: r.version,
        created,
    })
}

pub(super) fn bundle_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn link(
    base: &str,
    path: &str,
    params: &[(String, String)],
    count: usize,
    offset: usize,
) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.append_pair("_count", &count.to_string());
    s.append_pair("_offset", &offset.to_string());
    if path.is_empty() {
        // A system-level search: `[base]?_type=…`.
        return format!("{base}?{}", s.finish());
    }
    format!("{base}/{path}?{}", s.finish())
}

fn paging_links(
    base: &str,
    path: &str,
    params: &[(String, String)],
    count: usize,
    offset: usize,
    returned: usize,
    total: Option<i64>,
) -> Vec<(&'static str, String)> {
    let mut links = vec![("self", link(base, path, params, count, offset))];
    let more = match total {
        Some(t) => usize::try_from(t).unwrap_or(usize::MAX) > offset + returned,
        // Without a total, a full page suggests more.
        None => count > 0 && returned == count,
    };
    if count > 0 {
        links.push(("first", link(base, path, params, count, 0)));
        if offset > 0 {
            links.push((
                "previous",
                link(base, path, params, count, offset.saturating_sub(count)),
            ));
        }
        if more {
            links.push(("next", link(base, path, params, count, offset + returned)));
        }
    }
    links
}

pub fn searchset(
    state: &AppState,
    query: &SearchQuery,
    page: &SearchPage,
    out: Output,
) -> HttpResponse {
    let (bundle, noted) = searchset_bundle(state, query, page, out.language);
    let mut response = json(StatusCode::OK, out, bundle);
    if noted {
        vary_on_language(response.headers_mut());
    }
    response
}

/// The searchset Bundle of a page, as JSON text, and whether it notes ignored parameters (in
/// `language`): the answer of a search and the resource of a bundle's search entry.
fn searchset_bundle(
    state: &AppState,
    query: &SearchQuery,
    page: &SearchPage,
    language: Language,
) -> (String, bool) {
    let base = &state.base_url;
    let links = paging_links(
        base,
        &query.path(),
        &query.applied,
        query.count,
        query.offset,
        page.resources.len(),
        page.total,
    );
    let now = to_fhir_instant(state.services.clock.now_micros());
    let mut b = BundleBuilder::new("searchset", &bundle_id(), &now, page.total, &links);
    // What the access scope let through, reduced to what `_summary`/`_elements` asked for.
    let shown: Vec<Option<String>> = page
        .resources
        .iter()
        .map(|r| match (&query.subset, &r.content) {
            (Some(subset), Some(content)) => Some(subset::apply_text(content, subset)),
            _ => None,
        })
        .collect();
    for (r, shown) in page.resources.iter().zip(&shown) {
        b.entry(Entry {
            full_url: Some(format!("{base}/{}/{}", r.res_type, r.id)),
            resource: shown.as_deref().or(r.content.as_deref()),
            search_mode: Some("match"),
            ..Entry::default()
        });
    }
    // Whole: `_summary`/`_elements` name elements of the searched type, not of these.
    for r in &page.included.resources {
        b.entry(Entry {
            full_url: Some(format!("{base}/{}/{}", r.res_type, r.id)),
            resource: r.content.as_deref(),
            search_mode: Some("include"),
            ..Entry::default()
        });
    }
    let capped = page.included.capped.then_some(query.include_limit);
    let noted = notes_entry(&mut b, &query.ignored, capped, language);
    (b.finish(), noted)
}

/// The OperationOutcome entry that lists the search parameters ignored and says the includes
/// were cut at `capped` resources, if either happened; whether there was one.
fn notes_entry(
    b: &mut BundleBuilder,
    ignored: &[String],
    capped: Option<usize>,
    language: Language,
) -> bool {
    if ignored.is_empty() && capped.is_none() {
        return false;
    }
    let mut issues: Vec<Issue> = ignored
        .iter()
        .map(|p| {
            Issue::warning(
                IssueType::NotSupported,
                InteractionMessage::SearchParameterIgnored {
                    parameter: p.clone(),
                },
            )
            .at(p.clone())
        })
        .collect();
    if let Some(limit) = capped {
        issues.push(Issue::warning(
            IssueType::TooCosty,
            InteractionMessage::IncludesCapped { limit },
        ));
    }
    let warning = OperationOutcome::new(issues)
        .to_json_in(language)
        .to_string();
    b.entry(Entry {
        resource: Some(&warning),
        search_mode: Some("outcome"),
        ..Entry::default()
    });
    true
}

/// A search of CodeSystem or ValueSet, answered from the terminology.
pub fn terminology_searchset(
    state: &AppState,
    res_type: &str,
    criteria: &Criteria,
    page: &Page,
    out: Output,
) -> HttpResponse {
    let total = i64::try_from(page.total).unwrap_or(i64::MAX);
    let paging = Paging {
        applied: &criteria.applied,
        count: criteria.count,
        offset: criteria.offset,
        ignored: &criteria.ignored,
    };
    value_searchset(state, res_type, &paging, &page.resources, total, out)
}

/// How a searchset built from resources in memory was asked for: for its links.
pub struct Paging<'a> {
    pub applied: &'a [(String, String)],
    pub count: usize,
    pub offset: usize,
    pub ignored: &'a [String],
}

/// A searchset of resources that are not stored rows (terminology, the audit trail).
pub fn value_searchset(
    state: &AppState,
    res_type: &str,
    paging: &Paging<'_>,
    resources: &[Value],
    total: i64,
    out: Output,
) -> HttpResponse {
    let base = &state.base_url;
    let links = paging_links(
        base,
        res_type,
        paging.applied,
        paging.count,
        paging.offset,
        resources.len(),
        Some(total),
    );
    let now = to_fhir_instant(state.services.clock.now_micros());
    let mut b = BundleBuilder::new("searchset", &bundle_id(), &now, Some(total), &links);
    for r in resources {
        let text = r.to_string();
        let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
        b.entry(Entry {
            full_url: Some(format!("{base}/{res_type}/{id}")),
            resource: Some(&text),
            search_mode: Some("match"),
            ..Entry::default()
        });
    }
    let noted = notes_entry(&mut b, paging.ignored, None, out.language);
    let mut response = json(StatusCode::OK, out, b.finish());
    if noted {
        vary_on_language(response.headers_mut());
    }
    response
}

pub fn history(
    state: &AppState,
    path: &str,
    page: &HistoryPage,
    count: usize,
    offset: usize,
    params: &[(String, String)],
    out: Output,
) -> HttpResponse {
    let base = &state.base_url;
    let links = paging_links(
        base,
        path,
        params,
        count,
        offset,
        page.entries.len(),
        Some(page.total),
    );
    let now = to_fhir_instant(state.services.clock.now_micros());
    let mut b = BundleBuilder::new("history", &bundle_id(), &now, Some(page.total), &links);
    for e in &page.entries {
        let r = &e.resource;
        let url = match e.method.as_str() {
            "POST" => r.res_type.clone(),
            _ => format!("{}/{}", r.res_type, r.id),
        };
        let status = match (e.method.as_str(), r.version) {
            ("DELETE", _) => "204 No Content",
            (_, 1) => "201 Created",
            _ => "200 OK",
        };
        b.entry(Entry {
            full_url: Some(format!("{base}/{}/{}", r.res_type, r.id)),
            resource: r.content.as_deref(),
            request: Some((e.method.as_str(), url)),
            response: Some(json!({
                "status": status,
                "etag": etag(r.version),
                "lastModified": to_fhir_instant(r.last_updated),
            })),
            ..Entry::default()
        });
    }
    json(StatusCode::OK, out, b.finish())
}

fn entry_response(base: &str, status: &str, r: Option<&StoredResource>) -> Value {
    let mut response = json!({ "status": status });
    if let Some(r) = r {
        response["location"] = json!(version_location(base, r));
        response["etag"] = json!(etag(r.version));
        response["lastModified"] = json!(to_fhir_instant(r.last_updated));
    }
    response
}

pub fn transaction(
    state: &AppState,
    kind: BundleKind,
    results: &[EntryResult],
    prefer: Return,
    out: Output,
) -> HttpResponse {
    let base = &state.base_url;
    let bundle_type = match kind {
        BundleKind::Transaction => "transaction-response",
        BundleKind::Batch => "batch-response",
    };
    let now = to_fhir_instant(state.services.clock.now_micros());
    let mut b = BundleBuilder::new(bundle_type, &bundle_id(), &now, None, &[]);
    let mut noted = false;
    // The texts entries borrow: a failed entry's response, a search entry's searchset.
    let outcomes: Vec<String> = results
        .iter()
        .map(|r| match r {
            EntryResult::Failed(e) => {
                let mut response = json!({ "status": status_line(e.classify().0) });
                response["outcome"] = e.outcome().to_json_in(out.language);
                response.to_string()
            }
            EntryResult::Searched(found) => {
                let (bundle, ignored) = searchset_bundle(state, &found.0, &found.1, out.language);
                noted |= ignored;
                bundle
            }
            _ => String::new(),
        })
        .collect();
    for (result, text) in results.iter().zip(&outcomes) {
        let with_body = |r: &'_ StoredResource| {
            if prefer == Return::Representation {
                r.content.clone()
            } else {
                None
            }
        };
        let (full_url, resource, response) = match result {
            EntryResult::Created(w) => (
                Some(w.resource.clone()),
                with_body(&w.resource),
                entry_response(base, "201 Created", Some(&w.resource)),
            ),
            EntryResult::Updated(w) => (
                Some(w.resource.clone()),
                with_body(&w.resource),
                entry_response(base, "200 OK", Some(&w.resource)),
            ),
            EntryResult::Existing(r) => (
                Some(r.clone()),
                with_body(r),
                entry_response(base, "200 OK", Some(r)),
            ),
            EntryResult::Read(r) => (
                Some(r.clone()),
                r.content.clone(),
                entry_response(base, "200 OK", Some(r)),
            ),
            EntryResult::Deleted => (None, None, entry_response(base, "204 No Content", None)),
            EntryResult::Searched(_) => (
                None,
                Some(text.clone()),
                entry_response(base, "200 OK", None),
            ),
            EntryResult::Failed(_) => (
                None,
                None,
                serde_json::from_str(text).unwrap_or(Value::Null),
            ),
        };
        b.entry(Entry {
            full_url: full_url.map(|r| format!("{base}/{}/{}", r.res_type, r.id)),
            resource: resource.as_deref(),
            response: Some(response),
            ..Entry::default()
        });
    }
    let mut response = json(StatusCode::OK, out, b.finish());
    // A failed batch entry carries its OperationOutcome in the client's language, and so does
    // a search entry's note of ignored parameters.
    if noted || results.iter().any(|r| matches!(r, EntryResult::Failed(_))) {
        vary_on_language(response.headers_mut());
    }
    response
}

fn status_line(status: StatusCode) -> String {
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default()
    )
}
