//! Content negotiation (`_format`, `Accept`, `Content-Type`) and the `Prefer` header.
//! JSON is the only format so far; XML requests are refused with 406/415 rather than answered in
//! the wrong format.

use actix_web::HttpRequest;
use actix_web::http::header::{ACCEPT, CONTENT_TYPE};

use crate::error::Error;

/// How to write the response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    pub pretty: bool,
    /// Answer `application/json` when that is what the client asked for, else `application/fhir+json`.
    pub plain_json: bool,
}

const JSON_TYPES: &[&str] = &[
    "application/fhir+json",
    "application/json",
    "json",
    "application/json+fhir",
];
const XML_TYPES: &[&str] = &[
    "application/fhir+xml",
    "application/xml",
    "text/xml",
    "xml",
    "application/xml+fhir",
];

fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub fn output(req: &HttpRequest) -> Result<Output, Error> {
    let pretty = query_param(req, "_pretty").is_some_and(|v| v == "true");
    if let Some(format) = query_param(req, "_format") {
        let f = format
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if JSON_TYPES.contains(&f.as_str()) {
            return Ok(Output {
                pretty,
                plain_json: f == "application/json",
            });
        }
        if XML_TYPES.contains(&f.as_str()) {
            return Err(Error::NotAcceptable(
                "_format: XML is not supported yet; use _format=json".into(),
            ));
        }
        return Err(Error::NotAcceptable(format!(
            "_format '{format}' is not supported (use json)"
        )));
    }
    let accept = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    let mut plain_json = false;
    let mut any = false;
    for item in accept.split(',') {
        let mime = item
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/fhir+json" | "application/json+fhir" | "*/*" | "application/*" => {
                any = true
            }
            "application/json" => {
                any = true;
                plain_json = true;
            }
            "" => any = true,
            _ => {}
        }
    }
    if any {
        Ok(Output {
            pretty,
            plain_json: plain_json && !accept.contains("fhir+json"),
        })
    } else {
        Err(Error::NotAcceptable(format!(
            "cannot answer in any of '{accept}'; this server speaks application/fhir+json"
        )))
    }
}

/// A request body must be declared as FHIR JSON (or plain JSON).
pub fn check_content_type(req: &HttpRequest) -> Result<(), Error> {
    let Some(value) = req.headers().get(CONTENT_TYPE) else {
        return Err(Error::UnsupportedMediaType(
            "Content-Type is required (application/fhir+json)".into(),
        ));
    };
    let text = value.to_str().unwrap_or_default();
    let mime = text
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if JSON_TYPES.contains(&mime.as_str()) && mime != "json" {
        Ok(())
    } else if XML_TYPES.contains(&mime.as_str()) {
        Err(Error::UnsupportedMediaType(
            "XML bodies are not supported yet; send application/fhir+json".into(),
        ))
    } else {
        Err(Error::UnsupportedMediaType(format!(
            "Content-Type '{text}' is not supported; send application/fhir+json"
        )))
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
}

pub fn prefer(req: &HttpRequest) -> Prefer {
    let mut out = Prefer {
        return_: Return::Representation,
        strict: false,
    };
    for value in req.headers().get_all("prefer") {
        for item in value.to_str().unwrap_or_default().split([',', ';']) {
            match item.trim().to_ascii_lowercase().replace(' ', "").as_str() {
                "return=minimal" => out.return_ = Return::Minimal,
                "return=representation" => out.return_ = Return::Representation,
                "return=operationoutcome" => out.return_ = Return::OperationOutcome,
                "handling=strict" => out.strict = true,
                "handling=lenient" => out.strict = false,
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

    #[test]
    fn format_parameter_wins_over_accept() {
        let req = TestRequest::with_uri("/Patient?_format=json")
            .insert_header((ACCEPT, "application/fhir+xml"))
            .to_http_request();
        assert!(output(&req).is_ok());
        let req = TestRequest::with_uri("/Patient?_format=xml").to_http_request();
        assert!(matches!(output(&req), Err(Error::NotAcceptable(_))));
    }

    #[test]
    fn xml_only_accept_is_not_acceptable() {
        let req = TestRequest::default()
            .insert_header((ACCEPT, "application/fhir+xml"))
            .to_http_request();
        assert!(matches!(output(&req), Err(Error::NotAcceptable(_))));
        let req = TestRequest::default()
            .insert_header((ACCEPT, "application/fhir+xml, */*;q=0.1"))
            .to_http_request();
        assert!(output(&req).is_ok());
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
                strict: true
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
