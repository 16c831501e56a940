//! What characters a body may hold. It must be UTF-8, the only encoding FHIR allows
//! (<https://hl7.org/fhir/R4/http.html#mime-type>); a bad byte is named by line and column.
//!
//! FHIR strings hold no character below U+0020 but tab, line feed and carriage return
//! (<https://hl7.org/fhir/R4/datatypes.html#primitive>). JSON can still carry them escaped
//! (`\u0000`) and an XML reader may let character references through; stored, they make XML
//! answers that no parser reads and NUL is refused by PostgreSQL. So a parsed body is searched
//! for them once, whatever format it came in, keys included.

use serde_json::Value;

/// `body` as text; else where it stops being UTF-8: the byte, its line and column (in
/// characters).
pub fn utf8(body: &[u8]) -> Result<&str, (u8, usize, usize)> {
    std::str::from_utf8(body).map_err(|e| {
        let at = e.valid_up_to();
        let (line, column) = line_column(body, at);
        (body.get(at).copied().unwrap_or(0), line, column)
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(input: &[u8], offset: usize) -> (usize, usize) {
    let before = &input[..offset.min(input.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// The first forbidden character in `resource` and where it is (`Patient.name[0].family`).
pub fn forbidden_character(resource: &Value) -> Option<(String, char)> {
    let root = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut trail = Vec::new();
    let c = find(resource, &mut trail)?;
    let mut path = root.to_string();
    for step in trail.iter().rev() {
        if !step.starts_with('[') && !path.is_empty() {
            path.push('.');
        }
        path.push_str(step);
    }
    Some((path, c))
}

fn forbidden(s: &str) -> Option<char> {
    // Every forbidden character is one byte in UTF-8, so bytes are enough to find it.
    s.bytes()
        .find(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
        .map(char::from)
}

/// Depth-first; the steps to the character are pushed innermost first while returning.
fn find(value: &Value, trail: &mut Vec<String>) -> Option<char> {
    match value {
        Value::String(s) => forbidden(s),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let c = find(item, trail)?;
            trail.push(format!("[{i}]"));
            Some(c)
        }),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let c = forbidden(key).or_else(|| find(item, trail))?;
            trail.push(key.escape_debug().to_string());
            Some(c)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// How a client reads the character in a message: `U+0000`.
pub fn describe(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tab_line_feed_and_carriage_return_are_allowed() {
        let ok = json!({"resourceType": "Patient", "name": [{"text": "a\tb\r\nc 山田"}]});
        assert_eq!(forbidden_character(&ok), None);
    }

    #[test]
    fn nul_and_other_controls_are_found_with_their_path() {
        let nul = json!({"resourceType": "Patient", "name": [{"given": ["x", "a\u{0}b"]}]});
        assert_eq!(
            forbidden_character(&nul),
            Some(("Patient.name[0].given[1]".to_string(), '\u{0}'))
        );
        let bell = json!({"resourceType": "Observation", "code": {"text": "\u{7}"}});
        assert_eq!(
            forbidden_character(&bell),
            Some(("Observation.code.text".to_string(), '\u{7}'))
        );
        assert_eq!(describe('\u{1f}'), "U+001F");
    }

    #[test]
    fn keys_are_searched_too() {
        let key = json!({"resourceType": "Patient", "a\u{1}": true});
        assert_eq!(
            forbidden_character(&key),
            Some(("Patient.a\\u{1}".to_string(), '\u{1}'))
        );
    }
}
