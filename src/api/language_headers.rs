//! The headers of an answer whose words depend on `Accept-Language`: `Content-Language` when
//! they were localised, and `Vary: Accept-Language` whenever they could have been, so a cache
//! never hands a Japanese OperationOutcome to a client that asked for English (or back).

use actix_web::http::header::{CONTENT_LANGUAGE, HeaderMap, HeaderValue, VARY};

use crate::messages::Language;

/// Marks headers of an answer written in `language`: `Content-Language` unless English, the
/// default, which goes unmarked as before; `Vary: Accept-Language` always.
pub fn localised(headers: &mut HeaderMap, language: Language) {
    if language != Language::English {
        headers.insert(CONTENT_LANGUAGE, HeaderValue::from_static(language.tag()));
    }
    vary_on_language(headers);
}

/// Adds `Accept-Language` to `Vary`, keeping what is there.
pub fn vary_on_language(headers: &mut HeaderMap) {
    let existing = headers
        .get(VARY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let value = match existing {
        Some(v)
            if v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("accept-language") || p.trim() == "*") =>
        {
            return;
        }
        Some(v) if !v.trim().is_empty() => format!("{v}, Accept-Language"),
        _ => "Accept-Language".to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(VARY, v);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn vary_keeps_other_names_and_is_not_repeated() {
        let mut headers = HeaderMap::new();
        headers.insert(VARY, HeaderValue::from_static("Accept"));
        vary_on_language(&mut headers);
        vary_on_language(&mut headers);
        assert_eq!(headers.get(VARY).unwrap(), "Accept, Accept-Language");
    }

    #[test]
    fn only_a_localised_answer_names_its_language() {
        let mut headers = HeaderMap::new();
        localised(&mut headers, Language::English);
        assert!(headers.get(CONTENT_LANGUAGE).is_none());
        assert_eq!(headers.get(VARY).unwrap(), "Accept-Language");
        localised(&mut headers, Language::Japanese);
        assert_eq!(headers.get(CONTENT_LANGUAGE).unwrap(), "ja");
    }
}
