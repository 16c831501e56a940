//! Parsing request bodies as FHIR JSON within the configured nesting limit.
//! serde_json has its own recursion limit (128) but it is not configurable and its message
//! says nothing a client can act on; the depth is checked first in one cheap pass. The value is
//! built by `strict`, which refuses duplicate keys. A leading byte order mark is skipped (the
//! reference validator accepts it too); bytes that are not UTF-8 are refused before parsing.

mod strict;

use serde::de::DeserializeSeed;
use serde_json::Value;

use crate::messages::requests::JsonSyntax;

// The error is a text of the catalogue, defined there with its Japanese rendering.
pub use crate::messages::requests::ParseError;

/// Parses `body` as one JSON object whose nesting depth (objects and arrays) is at most `max_depth`.
pub fn parse_resource(body: &[u8], max_depth: usize) -> Result<Value, ParseError> {
    parse_resource_within(body, max_depth, usize::MAX)
}

/// As [`parse_resource`], with no array longer than `max_items`.
pub fn parse_resource_within(
    body: &[u8],
    max_depth: usize,
    max_items: usize,
) -> Result<Value, ParseError> {
    let value = parse_value_within(body, max_depth, max_items)?;
    if !value.is_object() {
        return Err(ParseError::NotAnObject);
    }
    Ok(value)
}

/// Any JSON value under the same rules as a resource (a JSON Patch is an array).
pub fn parse_value_within(
    body: &[u8],
    max_depth: usize,
    max_items: usize,
) -> Result<Value, ParseError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let text = super::characters::utf8(body)
        .map_err(|(byte, line, column)| ParseError::NotUtf8 { byte, line, column })?;
    check_depth(body, max_depth)?;
    read_strict(text, max_items)
}

fn read_strict(text: &str, max_items: usize) -> Result<Value, ParseError> {
    let mut trail = strict::Trail {
        max_items,
        ..strict::Trail::default()
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = strict::Strict {
        trail: &mut trail,
        outermost: true,
    };
    let result = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    result.map_err(|e| match trail.duplicate.take() {
        Some(key) => ParseError::DuplicateKey {
            key,
            path: trail.path(),
            line: e.line(),
            column: e.column(),
        },
        None if trail.too_long => ParseError::TooManyItems {
            path: trail.path(),
            max: max_items,
            line: e.line(),
            column: e.column(),
        },
        None => ParseError::Syntax {
            problem: JsonSyntax::of(&strip_position(&e.to_string())),
            line: e.line(),
            column: e.column(),
        },
    })
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn check_depth(body: &[u8], max: usize) -> Result<(), ParseError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut line, mut line_start) = (1usize, 0usize);
    for (i, &b) in body.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(ParseError::TooDeep {
                        max,
                        line,
                        column: i - line_start + 1,
                    });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn depth_limit_counts_objects_and_arrays_but_not_strings() {
        let ok = br#"{"a":[{"b":"[[[[{{{{"}]}"#;
        assert!(parse_resource(ok, 3).is_ok());
        assert!(matches!(
            parse_resource(ok, 2),
            Err(ParseError::TooDeep { max: 2, .. })
        ));
    }

    #[test]
    fn escaped_quotes_do_not_end_strings() {
        let ok = br#"{"a":"x\"[[[[["}"#;
        assert!(parse_resource(ok, 1).is_ok());
    }

    #[test]
    fn syntax_errors_report_line_and_column() {
        let err = parse_resource(b"{\n \"a\": tru }", 10).unwrap_err();
        match err {
            ParseError::Syntax { line, .. } => assert_eq!(line, 2),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth_with_their_path() {
        let err = parse_resource(br#"{"resourceType":"Patient","resourceType":"Bundle"}"#, 10)
            .unwrap_err();
        match err {
            ParseError::DuplicateKey { key, path, .. } => {
                assert_eq!(key, "resourceType");
                assert_eq!(path, "Patient.resourceType");
            }
            other => panic!("unexpected {other:?}"),
        }
        let nested = br#"{"resourceType":"Patient","name":[{"family":"a"},{"family":"b","given":["x"],"family":"c"}]}"#;
        match parse_resource(nested, 10).unwrap_err() {
            ParseError::DuplicateKey { path, line, .. } => {
                assert_eq!(path, "Patient.name[1].family");
                assert_eq!(line, 1);
            }
            other => panic!("unexpected {other:?}"),
        }
        // Escapes are decoded before keys are compared.
        let escaped = br#"{"resourceType":"Patient","active":true,"\u0061ctive":false}"#;
        assert!(matches!(
            parse_resource(escaped, 10),
            Err(ParseError::DuplicateKey { .. })
        ));
        let same_key_in_siblings =
            br#"{"resourceType":"Patient","name":[{"family":"a"},{"family":"b"}]}"#;
        assert!(parse_resource(same_key_in_siblings, 10).is_ok());
    }

    #[test]
    fn numbers_keep_the_text_they_were_written_with() {
        let text = r#"{"a":1.50,"b":1e-99999,"c":-0.000,"d":12345678901234567890123}"#;
        assert_eq!(
            parse_resource(text.as_bytes(), 10).unwrap().to_string(),
            text
        );
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped() {
        let v = parse_resource(b"\xEF\xBB\xBF{\"resourceType\":\"Patient\"}", 10).unwrap();
        assert_eq!(v["resourceType"], "Patient");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_named() {
        let err = parse_resource(b"{\"a\":\n \"x\xFF\"}", 10).unwrap_err();
        assert_eq!(
            err,
            ParseError::NotUtf8 {
                byte: 0xFF,
                line: 2,
                column: 4
            }
        );
    }

    #[test]
    fn values_read_as_serde_json_reads_them() {
        let text = r#"{"a":[1,-2,3.5,"s",true,null,{"b":{}}],"c":18446744073709551615}"#;
        let strict = parse_resource(text.as_bytes(), 10).unwrap();
        let plain: Value = serde_json::from_str(text).unwrap();
        assert_eq!(strict, plain);
        assert_eq!(strict.to_string(), plain.to_string());
    }

    #[test]
    fn arrays_longer_than_the_limit_are_refused_with_their_path() {
        let body = br#"{"resourceType":"Patient","name":[{"given":["a","b","c"]}]}"#;
        assert!(parse_resource_within(body, 10, 3).is_ok());
        match parse_resource_within(body, 10, 2).unwrap_err() {
            ParseError::TooManyItems { path, max, .. } => {
                assert_eq!(path, "Patient.name[0].given");
                assert_eq!(max, 2);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn empty_and_non_object_bodies_are_refused() {
        assert_eq!(parse_resource(b"  ", 10), Err(ParseError::Empty));
        assert_eq!(parse_resource(b"[1]", 10), Err(ParseError::NotAnObject));
    }
}
