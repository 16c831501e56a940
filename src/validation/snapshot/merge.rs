//! One differential element laid over the snapshot element it constrains: what it states
//! replaces what the base said (cardinality, types, values, binding strength and value set,
//! slicing), lists that accumulate do so (constraints by key, conditions, aliases, mappings),
//! and a constraint it adds names the profile as its `source`.

use serde_json::{Map, Value, json};

/// Members a differential element carries that are not constraints on the element.
const IDENTITY: &[&str] = &["id", "path"];

/// `[x]` value members: a differential's `fixed…` replaces the base's `fixed…` of any type.
const TYPED: &[&str] = &["fixed", "pattern", "defaultValue", "minValue", "maxValue"];

pub(super) fn merge(target: &mut Value, diff: &Value, profile_url: &str) {
    let (Some(target), Some(diff)) = (target.as_object_mut(), diff.as_object()) else {
        return;
    };
    for (key, value) in diff {
        if IDENTITY.contains(&key.as_str()) {
            continue;
        }
        match key.as_str() {
            "constraint" => merge_constraints(target, value, profile_url),
            "condition" | "alias" => union(target, key, value),
            "mapping" => append(target, key, value),
            "binding" | "slicing" => merge_object(target, key, value),
            _ => {
                if let Some(prefix) = TYPED.iter().find(|p| typed_member(key, p)) {
                    target.retain(|k, _| !typed_member(k, prefix));
                }
                target.insert(key.clone(), value.clone());
            }
        }
    }
}

/// `fixedCoding` is a `fixed` member; `fixed` alone or `fixedness` are not.
fn typed_member(key: &str, prefix: &str) -> bool {
    key.strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

fn merge_constraints(target: &mut Map<String, Value>, added: &Value, profile_url: &str) {
    let list = target
        .entry("constraint")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(list) = list.as_array_mut() else {
        return;
    };
    for c in added.as_array().into_iter().flatten() {
        let mut c = c.clone();
        if c.get("source").is_none() && !profile_url.is_empty() {
            c["source"] = json!(profile_url);
        }
        let key = c.get("key").cloned();
        match list.iter_mut().find(|o| o.get("key") == key.as_ref()) {
            Some(existing) => *existing = c,
            None => list.push(c),
        }
    }
}

fn union(target: &mut Map<String, Value>, key: &str, added: &Value) {
    let list = target
        .entry(key)
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(list) = list.as_array_mut() else {
        return;
    };
    for v in added.as_array().into_iter().flatten() {
        if !list.contains(v) {
            list.push(v.clone());
        }
    }
}

fn append(target: &mut Map<String, Value>, key: &str, added: &Value) {
    let list = target
        .entry(key)
        .or_insert_with(|| Value::Array(Vec::new()));
    if let (Some(list), Some(added)) = (list.as_array_mut(), added.as_array()) {
        list.extend(added.iter().cloned());
    }
}

/// The differential's members of an object replace the base's one by one: a binding that
/// only tightens the strength keeps the base's value set.
fn merge_object(target: &mut Map<String, Value>, key: &str, added: &Value) {
    match (target.get_mut(key), added.as_object()) {
        (Some(Value::Object(existing)), Some(added)) => {
            for (k, v) in added {
                existing.insert(k.clone(), v.clone());
            }
        }
        _ => {
            target.insert(key.to_string(), added.clone());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_value_of_another_type_replaces_the_base_one() {
        let mut e = json!({"path": "X.a", "fixedString": "a", "min": 0});
        merge(&mut e, &json!({"path": "X.a", "fixedCode": "b"}), "u");
        assert_eq!(e, json!({"path": "X.a", "fixedCode": "b", "min": 0}));
    }

    #[test]
    fn an_added_constraint_names_the_profile_and_replaces_one_of_the_same_key() {
        let mut e = json!({"constraint": [{"key": "a", "source": "base"}]});
        merge(
            &mut e,
            &json!({"constraint": [{"key": "b"}, {"key": "a", "human": "x"}]}),
            "http://p",
        );
        assert_eq!(
            e["constraint"],
            json!([{"key": "a", "human": "x", "source": "http://p"}, {"key": "b", "source": "http://p"}])
        );
    }

    #[test]
    fn a_binding_strength_alone_keeps_the_value_set() {
        let mut e = json!({"binding": {"strength": "extensible", "valueSet": "http://vs"}});
        merge(&mut e, &json!({"binding": {"strength": "required"}}), "u");
        assert_eq!(
            e["binding"],
            json!({"strength": "required", "valueSet": "http://vs"})
        );
    }
}
