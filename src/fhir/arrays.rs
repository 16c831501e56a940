//! The longest array a parsed body may hold (`--max-array-items`): every item costs validation
//! work and answer size, so a longer one is refused before any of it. JSON bodies are held to
//! the limit while being read (`json::parse_resource_within`), before a hostile array is built in
//! memory; an XML body, whose repeats become arrays of the same JSON form, is checked here.

use serde_json::Value;

/// Where the first array longer than `max` is (`Patient.name[0].given`).
pub fn too_long(resource: &Value, max: usize) -> Option<String> {
    let root = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut trail = Vec::new();
    if !find(resource, max, &mut trail) {
        return None;
    }
    let mut path = root.to_string();
    for step in trail.iter().rev() {
        if !step.starts_with('[') && !path.is_empty() {
            path.push('.');
        }
        path.push_str(step);
    }
    Some(path)
}

/// Depth-first; the steps to the array are pushed innermost first while returning.
fn find(value: &Value, max: usize, trail: &mut Vec<String>) -> bool {
    match value {
        Value::Array(items) if items.len() > max => true,
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            let found = find(item, max, trail);
            if found {
                trail.push(format!("[{i}]"));
            }
            found
        }),
        Value::Object(map) => map.iter().any(|(key, item)| {
            let found = find(item, max, trail);
            if found {
                trail.push(key.clone());
            }
            found
        }),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_long_array_is_named() {
        let r = json!({"resourceType": "Patient", "name": [{"given": ["a", "b", "c"]}]});
        assert_eq!(too_long(&r, 3), None);
        assert_eq!(too_long(&r, 2).as_deref(), Some("Patient.name[0].given"));
        let contained = json!({"resourceType": "Observation", "contained": [
            {"resourceType": "Patient", "identifier": [{}, {}, {}]}
        ]});
        assert_eq!(
            too_long(&contained, 2).as_deref(),
            Some("Observation.contained[0].identifier")
        );
    }
}
