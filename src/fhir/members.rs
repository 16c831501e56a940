//! Member look-up in the small JSON objects FHIR resources are made of. `serde_json`'s map
//! hashes the key with SipHash on every `get`; most FHIR objects have a handful of members, and
//! comparing their names one by one is several times cheaper. The validator asks this hundreds
//! of thousands of times per Bundle.

use serde_json::{Map, Value};

/// Past this many members the map's own hash look-up wins.
const SCAN_UP_TO: usize = 12;

/// `obj[key]`.
pub fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if obj.len() <= SCAN_UP_TO {
        obj.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        obj.get(key)
    }
}

/// `value[key]` when `value` is an object.
pub fn member<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value {
        Value::Object(obj) => field(obj, key),
        _ => None,
    }
}

/// The `resourceType` of a resource (`None` for anything else).
pub fn resource_type(value: &Value) -> Option<&str> {
    member(value, "resourceType").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn small_and_large_objects_answer_as_get_does() {
        let small = json!({"resourceType": "Patient", "id": "p", "active": true});
        let mut large = Map::new();
        for i in 0..40 {
            large.insert(format!("k{i}"), json!(i));
        }
        let large = Value::Object(large);
        for (v, k) in [
            (&small, "id"),
            (&small, "gender"),
            (&large, "k39"),
            (&large, "x"),
        ] {
            assert_eq!(member(v, k), v.get(k), "{k}");
        }
        assert_eq!(resource_type(&small), Some("Patient"));
        assert_eq!(resource_type(&json!([1])), None);
        assert_eq!(member(&json!("s"), "id"), None);
    }
}
