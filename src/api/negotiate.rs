//! Content negotiation (`_format`, `Accept`, `Accept-Language`, `Content-Type`) and the
//! `Prefer` header. FHIR JSON and FHIR XML both ways; JSON when the client leaves the choice to
//! the server; OperationOutcome texts in Japanese when the client prefers it, else English.

use actix_web::HttpRequest;
use actix_web::http::header::{ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE};

use super::{FHIR_JSON, FHIR_XML};
use crate::error::Error;
use crate::messages::InteractionMessage;
use crate::messages::Language;

/// The wire format of a body; inside, every resource is the FHIR JSON `Value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// How to write the response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    pub format: Format,
    pub pretty: bool,
    /// The Content-Type to answer: the media type the client named (`application/json`,
    /// `text/xml`…), else the FHIR one of the format.
    pub mime: &'static str,
    /// The language of OperationOutcome texts (`Accept-Language`).
    pub language: Language,
}

/// A media type (or `_format` shorthand) the server speaks: its format, the Content-Type that
/// answers it, and how specific it is (a FHIR type beats a generic one beats a wildcard when an
/// Accept header rates them equally).
fn media_type(mime: &str) -> Option<(Format, &'static str, u8)> {
    Some(match mime {
        "application/fhir+json" | "application/json+fhir" | "json" => (Format::Json, FHIR_JSON, 2),
        "application/json" => (Format::Json, "application/json; charset=utf-8", 1),
        "application/fhir+xml" | "application/xml+fhir" | "xml" => (Format::Xml, FHIR_XML, 2),
        "application/xml" => (Format::Xml, "application/xml; charset=utf-8", 1),
        "text/xml" => (Format::Xml, "text/xml; charset=utf-8", 1),
        "*/*" | "application/*" | "" => (Format::Json, FHIR_JSON, 0),
        _ => return None,
    })
}

fn essence(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The response format: `_format` wins over `Accept`; among Accept's types the highest `q`, then
/// the most specific, then the first listed.
pub fn output(req: &HttpRequest) -> Result<Output, Error> {
    let pretty = query_param(req, "_pretty").is_some_and(|v| v == "true");
    let language = language(req);
    if let Some(format) = query_param(req, "_format") {
        let Some((format, mime, _)) = media_type(&essence(&format)).filter(|m| m.2 > 0) else {
            return Err(Error::NotAcceptable(
                InteractionMessage::FormatNotSupported {
                    format: format.to_string(),
                }
                .into(),
            ));
        };
        return Ok(Output {
            format,
            pretty,
            mime,
            language,
        });
    }
    let accept = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    let mut best: Option<(f32, u8, Format, &'static str)> = None;
    for item in accept.split(',') {
        let q = item
            .split(';')
            .skip(1)
            .find_map(|p| p.trim().strip_prefix("q=")?.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let Some((format, mime, rank)) = media_type(&essence(item)) else {
            continue;
        };
        if q > 0.0 && best.is_none_or(|(bq, br, _, _)| q > bq || (q == bq && rank > br)) {
            best = Some((q, rank, format, mime));
        }
    }
    match best {
        Some((_, _, format, mime)) => Ok(Output {
            format,
            pretty,
            mime,
            language,
        }),
        None => Err(Error::NotAcceptable(
            InteractionMessage::CannotAnswerIn {
                accept: accept.to_string(),
            }
            .into(),
        )),
    }
}

/// The language OperationOutcome texts are written in, from `Accept-Language`.
pub fn language(req: &HttpRequest) -> Language {
    Language::from_accept_language(
        req.headers()
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The format of a request body, from its Content-Type (FHIR or plain JSON or XML).
pub fn content_type(req: &HttpRequest) -> Result<Format, Error> {
    let Some(value) = req.headers().get(CONTENT_TYPE) else {
        return Err(Error::UnsupportedMediaType(
            "Content-Type is required (application/fhir+json or application/fhir+xml)".into(),
        ));
    };
    let text = value.to_str().unwrap_or_default();
    let mime = essence(text);
    match media_type(&mime) {
        Some((format, _, rank)) if rank > 0 && mime != "json" && mime != "xml" => Ok(format),
        _ => Err(Error::UnsupportedMediaType(
            InteractionMessage::ContentTypeNotSupported {
                content_type: text.to_string(),
            }
            .into(),
        )),
    }
}

/// `Prefer: return=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    Minimal,
    Representation,
    OperationOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefer {
    pub return_: Return,
    pub strict: bool,
    /// `respond-async`: the client takes a 202 and polls (Bulk Data `$export` requires it).
    pub respond_async: bool,
}

pub fn prefer(req: &HttpRequest) -> Prefer {
    let mut out = Prefer {
        return_: Return::Representation,
        strict: false,
        respond_async: false,
    };
    for value in req.headers().get_all("prefer") {
        for item in value.to_str().unwrap_or_default().split([',', ';']) {
            match item.trim().to_ascii_lowercase().replace(' ', "").as_str() {
                "return=minimal" => out.return_ = Return::Minimal,
                "return=representation" => out.return_ = Return::Representation,
                "return=operationoutcome" => out.return_ = Return::OperationOutcome,
                "handling=strict" => out.strict = true,
                "handling=lenient" => out.strict = false,
                "respond-async" => out.respond_async = true,
                _ => {}
            }
        }
    }
    out
}

/// `If-Match: W/"3"` → 3.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, Error> {
    let Some(value) = req.headers().get("if-match") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    let inner = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    inner.parse().map(Some).map_err(|_| {
        Error::invalid(
            format!("If-Match '{text}' is not a version ETag like W/\"3\""),
            "If-Match",
        )
    })
}

pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with(header: actix_web::http::header::HeaderName, value: &str) -> HttpRequest {
        TestRequest::default()
            .insert_header((header, value))
            .to_http_request()
    }

    fn format_of(req: &HttpRequest) -> (Format, &'static str) {
        let out = output(req).unwrap();
        (out.format, out.mime)
    }

    #[test]
    fn format_parameter_wins_over_accept() {
        let req = TestRequest::with_uri("/Patient?_format=json")
            .insert_header((ACCEPT, "application/fhir+xml"))
            .to_http_request();
        assert_eq!(format_of(&req), (Format::Json, FHIR_JSON));
        let req = TestRequest::with_uri("/Patient?_format=xml").to_http_request();
        assert_eq!(format_of(&req), (Format::Xml, FHIR_XML));
        let req = TestRequest::with_uri("/Patient?_format=text/xml").to_http_request();
        assert_eq!(format_of(&req).1, "text/xml; charset=utf-8");
        let req = TestRequest::with_uri("/Patient?_format=turtle").to_http_request();
        assert!(matches!(output(&req), Err(Error::NotAcceptable(_))));
    }

    #[test]
    fn accept_picks_by_quality_then_specificity() {
        let accept = |value: &str| output(&with(ACCEPT, value)).map(|o| (o.format, o.mime));
        assert_eq!(
            accept("application/fhir+xml").unwrap(),
            (Format::Xml, FHIR_XML)
        );
        assert_eq!(
            accept("application/fhir+xml, */*;q=0.1").unwrap().0,
            Format::Xml
        );
        assert_eq!(
            accept("application/fhir+xml;q=0.5, application/fhir+json")
                .unwrap()
                .0,
            Format::Json
        );
        assert_eq!(
            accept("application/json, application/fhir+json").unwrap(),
            (Format::Json, FHIR_JSON)
        );
        assert_eq!(accept("*/*, application/xml").unwrap().0, Format::Xml);
        assert!(matches!(accept("image/png"), Err(Error::NotAcceptable(_))));
        assert!(matches!(
            accept("application/fhir+xml;q=0"),
            Err(Error::NotAcceptable(_))
        ));
    }

    #[test]
    fn the_language_follows_accept_language() {
        let language = |value: &str| output(&with(ACCEPT_LANGUAGE, value)).unwrap().language;
        assert_eq!(language("ja,en;q=0.8"), Language::Japanese);
        assert_eq!(language("en,ja;q=0.8"), Language::English);
        assert_eq!(language("fr"), Language::English);
        let none = TestRequest::default().to_http_request();
        assert_eq!(output(&none).unwrap().language, Language::English);
    }

    #[test]
    fn bodies_are_json_or_xml() {
        let body = |value: &str| content_type(&with(CONTENT_TYPE, value));
        assert_eq!(
            body("application/fhir+xml; charset=utf-8").unwrap(),
            Format::Xml
        );
        assert_eq!(body("text/xml").unwrap(), Format::Xml);
        assert_eq!(body("application/json").unwrap(), Format::Json);
        assert!(body("xml").is_err());
        assert!(body("text/plain").is_err());
    }

    #[test]
    fn prefer_reads_return_and_handling() {
        let req = TestRequest::default()
            .insert_header(("prefer", "return=minimal, handling=strict"))
            .to_http_request();
        assert_eq!(
            prefer(&req),
            Prefer {
                return_: Return::Minimal,
                strict: true,
                respond_async: false,
            }
        );
    }

    #[test]
    fn if_match_takes_weak_etags() {
        let req = TestRequest::default()
            .insert_header(("if-match", "W/\"7\""))
            .to_http_request();
        assert_eq!(if_match(&req).unwrap(), Some(7));
        let req = TestRequest::default()
            .insert_header(("if-match", "abc"))
            .to_http_request();
        assert!(if_match(&req).is_err());
    }
}
