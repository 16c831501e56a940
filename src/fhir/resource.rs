//! Helpers over a resource held as a JSON object: its type, its id, and the server-owned parts of
//! `meta`.

use serde_json::{Map, Value};

use super::instant::to_fhir_instant;

pub fn resource_type(resource: &Value) -> Option<&str> {
    resource.get("resourceType").and_then(Value::as_str)
}

pub fn id(resource: &Value) -> Option<&str> {
    resource.get("id").and_then(Value::as_str)
}

/// FHIR `id`: 1–64 of `[A-Za-z0-9\-\.]`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Sets `id`, `meta.versionId` and `meta.lastUpdated`, keeping the rest of `meta` (profiles,
/// tags, security labels) as the client sent it. `id` goes right after `resourceType`, where
/// readers expect it.
pub fn stamp(resource: &mut Value, id: &str, version: i64, last_updated_micros: i64) {
    let Some(obj) = resource.as_object_mut() else {
        return;
    };
    obj.remove("id");
    let at = usize::from(obj.contains_key("resourceType")).min(obj.len());
    obj.shift_insert(at, "id".into(), Value::String(id.to_string()));
    if !obj.get("meta").is_some_and(Value::is_object) {
        obj.remove("meta");
        obj.shift_insert(
            (at + 1).min(obj.len()),
            "meta".into(),
            Value::Object(Map::new()),
        );
    }
    if let Some(meta) = obj.get_mut("meta").and_then(Value::as_object_mut) {
        meta.insert("versionId".into(), Value::String(version.to_string()));
        meta.insert(
            "lastUpdated".into(),
            Value::String(to_fhir_instant(last_updated_micros)),
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stamp_puts_id_second_and_keeps_profiles() {
        let mut r = json!({"resourceType": "Patient", "active": true, "meta": {"profile": ["p"]}});
        stamp(&mut r, "abc", 3, 0);
        let keys: Vec<_> = r.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys[..2], ["resourceType".to_string(), "id".to_string()]);
        let mut bare = json!({"resourceType": "Patient", "active": true});
        stamp(&mut bare, "x", 1, 0);
        let keys: Vec<_> = bare.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["resourceType", "id", "meta", "active"]);
        assert_eq!(r["meta"]["profile"][0], "p");
        assert_eq!(r["meta"]["versionId"], "3");
        assert_eq!(r["meta"]["lastUpdated"], "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn ids_follow_the_fhir_rule() {
        assert!(is_valid_id("a-B.9"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("a_b"));
        assert!(!is_valid_id(&"x".repeat(65)));
    }
}
