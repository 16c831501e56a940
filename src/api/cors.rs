//! Cross-origin requests (CORS, <https://fetch.spec.whatwg.org/#http-cors-protocol>) from
//! browser-based FHIR clients served from the configured origins. A request from one of them
//! gets the CORS headers; every other request, with or without an `Origin`, is answered without
//! any, so a page from any other origin cannot read the answer. Preflights are answered here,
//! before authentication: a browser sends them without credentials.
//!
//! Written here rather than taken from `actix-cors`, which adds `Access-Control-Expose-Headers`
//! to every answer, those of refused origins and of requests without an `Origin` included.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD,
    HeaderMap, HeaderValue, ORIGIN, VARY,
};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};

use super::routes::Template;
use crate::config::AllowedOrigins;

/// What a cross-origin page may send: the methods of the FHIR API.
const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
/// The request headers the server reads, besides the CORS-safelisted ones.
const ALLOW_HEADERS: &str = "Authorization, Content-Type, Accept, Accept-Language, Prefer, \
    If-Match, If-None-Match, If-None-Exist, If-Modified-Since, X-Request-Id, \
    X-Emergency-Reason, X-Emergency-2FA";
/// The answer headers a FHIR client reads (versions, where a resource went), which a browser
/// otherwise hides from the page.
const EXPOSE_HEADERS: &str =
    "ETag, Location, Content-Location, Last-Modified, Retry-After, X-Request-Id";
/// Seconds a browser may reuse a preflight's answer: short, so a changed list takes effect soon.
const MAX_AGE: &str = "600";

/// The request's origin, when it is one of `origins`.
fn allowed(origins: &AllowedOrigins, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(ORIGIN)?;
    origins
        .allows(origin.to_str().ok()?)
        .then(|| origin.clone())
}

/// Answers preflights and marks the answers of allowed origins; registered only when origins
/// are configured.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let allowed = req
        .app_data::<web::Data<AllowedOrigins>>()
        .and_then(|origins| allowed(origins, req.headers()));
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(ORIGIN)
        && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        req.extensions_mut().insert(Template("(cors-preflight)"));
        // Lists what the server takes; the browser compares it with what the page asked.
        let mut answer = HttpResponse::NoContent();
        answer.insert_header((VARY, "Origin"));
        if let Some(origin) = allowed {
            answer
                .insert_header((ACCESS_CONTROL_ALLOW_ORIGIN, origin))
                .insert_header((ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS))
                .insert_header((ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS))
                .insert_header((ACCESS_CONTROL_MAX_AGE, MAX_AGE));
        }
        return Ok(req.into_response(answer.finish()));
    }
    let mut response = next.call(req).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    // The answer differs by origin: a cache must not give one origin's answer to another.
    headers.append(VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allowed {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    Ok(response)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_a_listed_origin_is_allowed() {
        let origins = AllowedOrigins::parse(&["https://app.example.jp".into()]).unwrap();
        let with = |origin: &str| {
            let mut h = HeaderMap::new();
            h.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
            h
        };
        assert!(allowed(&origins, &with("https://app.example.jp")).is_some());
        assert!(allowed(&origins, &with("https://app.example.jp.evil")).is_none());
        assert!(allowed(&origins, &with("http://app.example.jp")).is_none());
        assert!(allowed(&origins, &HeaderMap::new()).is_none());
    }
}
