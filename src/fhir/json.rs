//! Parsing request bodies as FHIR JSON within the configured nesting limit.
//! serde_json has its own recursion limit (128) but it is not configurable and its message
//! says nothing a client can act on; the depth is checked first in one cheap pass.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("JSON nesting deeper than {max} levels (line {line}, column {column})")]
    TooDeep {
        max: usize,
        line: usize,
        column: usize,
    },
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Syntax {
        message: String,
        line: usize,
        column: usize,
    },
    #[error("the body is empty")]
    Empty,
    #[error("the body must be a JSON object (a FHIR resource)")]
    NotAnObject,
}

/// Parses `body` as one JSON object whose nesting depth (objects and arrays) is at most `max_depth`.
pub fn parse_resource(body: &[u8], max_depth: usize) -> Result<Value, ParseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    check_depth(body, max_depth)?;
    let value: Value = serde_json::from_slice(body).map_err(|e| ParseError::Syntax {
        message: strip_position(&e.to_string()),
        line: e.line(),
        column: e.column(),
    })?;
    if !value.is_object() {
        return Err(ParseError::NotAnObject);
    }
    Ok(value)
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
    fn empty_and_non_object_bodies_are_refused() {
        assert_eq!(parse_resource(b"  ", 10), Err(ParseError::Empty));
        assert_eq!(parse_resource(b"[1]", 10), Err(ParseError::NotAnObject));
    }
}
