//! The route table. FHIR URLs have few shapes (`/[type]/[id]/_history/[vid]`…), so requests are
//! routed here by splitting the path, once, instead of trying a regular expression per route —
//! which was the largest single cost of a GET. The interaction lists below are what the
//! CapabilityStatement advertises; they sit next to the routes that implement them.

use actix_web::http::Method;
use actix_web::web::Payload;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use super::State;
use super::handlers as h;
use crate::error::Error;
use crate::interactions::capabilities::Implemented;

pub const TYPE_INTERACTIONS: &[&str] = &[
    "read",
    "vread",
    "update",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
];
pub const SYSTEM_INTERACTIONS: &[&str] = &["transaction", "batch", "history-system"];
pub const FORMATS: &[&str] = &["application/fhir+json", "json"];
/// (name, definition) of the operations served at system, type and instance level.
pub const OPERATIONS: &[(&str, &str)] = &[(
    "validate",
    "http://hl7.org/fhir/OperationDefinition/Resource-validate",
)];

pub fn implemented() -> Implemented<'static> {
    Implemented {
        type_interactions: TYPE_INTERACTIONS,
        system_interactions: SYSTEM_INTERACTIONS,
        formats: FORMATS,
        operations: OPERATIONS,
    }
}

/// Where a request goes, with the path parts it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Metadata,
    Transaction,
    HistorySystem,
    Search(String),
    Create(String),
    SearchPost(String),
    HistoryType(String),
    Read(String, String),
    Update(String, String),
    Delete(String, String),
    HistoryInstance(String, String),
    Vread(String, String, String),
    /// `$validate` at system (no type), type, or instance level.
    Validate(Option<String>, Option<String>),
}

/// The route template of a request, for the log (never the concrete path: ids stay out of logs).
#[derive(Debug, Clone, Copy)]
pub struct Template(pub &'static str);

/// Resolves a path and method; the error is the 404 or 405 to answer, with the template if the
/// path had a known shape.
pub fn resolve(
    method: &Method,
    path: &str,
) -> Result<(Route, &'static str), (Error, &'static str)> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (template, allowed): (&'static str, &[Method]) = match segments.as_slice() {
        [] => ("/", &[Method::POST]),
        ["metadata"] => ("/metadata", &[Method::GET]),
        ["_history"] => ("/_history", &[Method::GET]),
        ["$validate"] => ("/$validate", &[Method::POST]),
        [_, "$validate"] => ("/{type}/$validate", &[Method::POST]),
        [_, _, "$validate"] => ("/{type}/{id}/$validate", &[Method::POST, Method::GET]),
        [_] => ("/{type}", &[Method::GET, Method::POST]),
        [_, "_search"] => ("/{type}/_search", &[Method::POST]),
        [_, "_history"] => ("/{type}/_history", &[Method::GET]),
        [_, _] => ("/{type}/{id}", &[Method::GET, Method::PUT, Method::DELETE]),
        [_, _, "_history"] => ("/{type}/{id}/_history", &[Method::GET]),
        [_, _, "_history", _] => ("/{type}/{id}/_history/{vid}", &[Method::GET]),
        _ => {
            return Err((
                Error::RouteNotFound(format!("no FHIR endpoint at {path}")),
                "(unmatched)",
            ));
        }
    };
    if !allowed.contains(method) {
        return Err((
            Error::MethodNotAllowed {
                method: method.to_string(),
                path: template.to_string(),
            },
            template,
        ));
    }
    let s = |i: usize| {
        segments
            .get(i)
            .map_or_else(String::new, |v| (*v).to_string())
    };
    let route = match (template, method.as_str()) {
        ("/", _) => Route::Transaction,
        ("/metadata", _) => Route::Metadata,
        ("/_history", _) => Route::HistorySystem,
        ("/$validate", _) => Route::Validate(None, None),
        ("/{type}/$validate", _) => Route::Validate(Some(s(0)), None),
        ("/{type}/{id}/$validate", _) => Route::Validate(Some(s(0)), Some(s(1))),
        ("/{type}", "GET") => Route::Search(s(0)),
        ("/{type}", _) => Route::Create(s(0)),
        ("/{type}/_search", _) => Route::SearchPost(s(0)),
        ("/{type}/_history", _) => Route::HistoryType(s(0)),
        ("/{type}/{id}", "GET") => Route::Read(s(0), s(1)),
        ("/{type}/{id}", "PUT") => Route::Update(s(0), s(1)),
        ("/{type}/{id}", _) => Route::Delete(s(0), s(1)),
        ("/{type}/{id}/_history", _) => Route::HistoryInstance(s(0), s(1)),
        _ => Route::Vread(s(0), s(1), s(3)),
    };
    Ok((route, template))
}

/// The single actix service: resolve, note the template for the log, run the handler.
pub async fn dispatch(
    state: State,
    req: HttpRequest,
    payload: Payload,
) -> Result<HttpResponse, Error> {
    let resolved = resolve(req.method(), req.path());
    let template = match &resolved {
        Ok((_, t)) | Err((_, t)) => *t,
    };
    req.extensions_mut().insert(Template(template));
    let route = resolved.map_err(|(e, _)| e)?.0;
    match route {
        Route::Metadata => h::metadata(state, req).await,
        Route::Transaction => h::transaction(state, req, payload).await,
        Route::HistorySystem => h::history_system(state, req).await,
        Route::Search(t) => h::search(state, req, t).await,
        Route::Create(t) => h::create(state, req, t, payload).await,
        Route::SearchPost(t) => h::search_post(state, req, t, payload).await,
        Route::HistoryType(t) => h::history_type(state, req, t).await,
        Route::Read(t, id) => h::read(state, req, t, id).await,
        Route::Update(t, id) => h::update(state, req, t, id, payload).await,
        Route::Delete(t, id) => h::delete(state, req, t, id).await,
        Route::HistoryInstance(t, id) => h::history_instance(state, req, t, id).await,
        Route::Vread(t, id, v) => h::vread(state, req, t, id, v).await,
        Route::Validate(t, id) => h::validate(state, req, t, id, payload).await,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn route(method: Method, path: &str) -> Route {
        resolve(&method, path).unwrap().0
    }

    #[test]
    fn every_shape_resolves_to_its_interaction() {
        assert_eq!(route(Method::GET, "/metadata"), Route::Metadata);
        assert_eq!(route(Method::POST, "/"), Route::Transaction);
        assert_eq!(route(Method::GET, "/_history"), Route::HistorySystem);
        assert_eq!(
            route(Method::GET, "/Patient"),
            Route::Search("Patient".into())
        );
        assert_eq!(
            route(Method::POST, "/Patient"),
            Route::Create("Patient".into())
        );
        assert_eq!(
            route(Method::POST, "/Patient/_search"),
            Route::SearchPost("Patient".into())
        );
        assert_eq!(
            route(Method::GET, "/Patient/_history"),
            Route::HistoryType("Patient".into())
        );
        assert_eq!(
            route(Method::GET, "/Patient/1"),
            Route::Read("Patient".into(), "1".into())
        );
        assert_eq!(
            route(Method::PUT, "/Patient/1"),
            Route::Update("Patient".into(), "1".into())
        );
        assert_eq!(
            route(Method::DELETE, "/Patient/1"),
            Route::Delete("Patient".into(), "1".into())
        );
        assert_eq!(
            route(Method::GET, "/Patient/1/_history"),
            Route::HistoryInstance("Patient".into(), "1".into())
        );
        assert_eq!(
            route(Method::GET, "/Patient/1/_history/2"),
            Route::Vread("Patient".into(), "1".into(), "2".into())
        );
    }

    #[test]
    fn wrong_methods_and_shapes_are_405_and_404() {
        let (e, t) = resolve(&Method::PATCH, "/Patient/1").unwrap_err();
        assert!(matches!(e, Error::MethodNotAllowed { .. }));
        assert_eq!(t, "/{type}/{id}");
        let (e, _) = resolve(&Method::GET, "/Patient/1/_history/2/x").unwrap_err();
        assert!(matches!(e, Error::RouteNotFound(_)));
        let (e, _) = resolve(&Method::GET, "/").unwrap_err();
        assert!(matches!(e, Error::MethodNotAllowed { .. }));
    }
}
