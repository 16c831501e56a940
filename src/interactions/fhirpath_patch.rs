//! FHIRPath Patch: a `Parameters` whose `operation` parameters add, insert, delete, replace or
//! move elements found by FHIRPath. Spec: <https://hl7.org/fhir/R4/fhirpatch.html>
//!
//! The targets are found by the validator's FHIRPath engine, which evaluates over borrowed JSON:
//! each node it returns is mapped back to its JSON Pointer by identity, and the change is then
//! made through the pointer. Whether an added element repeats comes from the R4 base model.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::fhir::{Issue, IssueType};
use crate::messages::PatchMessage;
use crate::messages::patch::PatchFailure;
use crate::validation::fhirpath::{self, Env, Expression, Item};

#[derive(Debug, Clone)]
enum Op {
    Add { name: String, value: Value },
    Insert { index: usize, value: Value },
    Delete,
    Replace { value: Value },
    Move { source: usize, destination: usize },
}

#[derive(Debug, Clone)]
struct Operation {
    kind: &'static str,
    path: String,
    expression: std::sync::Arc<Expression>,
    op: Op,
}

/// A parsed FHIRPath Patch.
#[derive(Debug, Clone)]
pub struct FhirPathPatch(Vec<Operation>);

fn not_a_patch(detail: impl Into<String>) -> Error {
    Error::invalid(
        PatchMessage::NotAPatch {
            detail: detail.into(),
        },
        "Parameters.parameter",
    )
}

/// The parts of one `operation` parameter by name.
fn parts(parameter: &Value) -> Vec<(&str, &Value)> {
    parameter
        .get("part")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| Some((p.get("name")?.as_str()?, p)))
                .collect()
        })
        .unwrap_or_default()
}

/// A part's value: its `value[x]`, or a complex value built from its own parts.
fn part_value(part: &Value) -> Option<Value> {
    let object = part.as_object()?;
    if let Some((_, v)) = object.iter().find(|(k, _)| k.starts_with("value")) {
        return Some(v.clone());
    }
    let mut built = Map::new();
    for (name, child) in parts(part) {
        let value = part_value(child)?;
        match built.get_mut(name) {
            Some(Value::Array(items)) => items.push(value),
            Some(existing) => *existing = Value::Array(vec![existing.clone(), value]),
            None => {
                built.insert(name.to_string(), value);
            }
        }
    }
    (!built.is_empty()).then_some(Value::Object(built))
}

impl FhirPathPatch {
    /// A `Parameters` of `operation` parameters; anything else is 400.
    pub fn parse(parameters: &Value) -> Result<Self, Error> {
        if parameters.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
            return Err(not_a_patch("a FHIRPath Patch is a Parameters resource"));
        }
        let list = parameters.get("parameter").and_then(Value::as_array);
        let mut ops = Vec::new();
        for (i, parameter) in list.into_iter().flatten().enumerate() {
            if parameter.get("name").and_then(Value::as_str) != Some("operation") {
                return Err(not_a_patch(format!("parameter {i} is not an operation")));
            }
            let found = parts(parameter);
            let get = |name: &str| found.iter().find(|(n, _)| *n == name).map(|(_, p)| *p);
            let text = |name: &str| {
                get(name)
                    .and_then(|p| p.as_object())
                    .and_then(|o| o.iter().find(|(k, _)| k.starts_with("value")))
                    .and_then(|(_, v)| v.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| not_a_patch(format!("operation {i} has no {name}")))
            };
            let number = |name: &str| {
                get(name)
                    .and_then(|p| p.get("valueInteger"))
                    .and_then(Value::as_u64)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| not_a_patch(format!("operation {i} has no {name}")))
            };
            let value = || {
                get("value")
                    .and_then(part_value)
                    .ok_or_else(|| not_a_patch(format!("operation {i} has no value")))
            };
            let (kind, op) = match text("type")?.as_str() {
                "add" => (
                    "add",
                    Op::Add {
                        name: text("name")?,
                        value: value()?,
                    },
                ),
                "insert" => (
                    "insert",
                    Op::Insert {
                        index: number("index")?,
                        value: value()?,
                    },
                ),
                "delete" => ("delete", Op::Delete),
                "replace" => ("replace", Op::Replace { value: value()? }),
                "move" => (
                    "move",
                    Op::Move {
                        source: number("source")?,
                        destination: number("destination")?,
                    },
                ),
                other => return Err(not_a_patch(format!("unknown operation type '{other}'"))),
            };
            let path = text("path")?;
            let expression = Expression::parse(&path).map_err(|e| not_a_patch(e.to_string()))?;
            ops.push(Operation {
                kind,
                path,
                expression: std::sync::Arc::new(expression),
                op,
            });
        }
        Ok(FhirPathPatch(ops))
    }

    /// `resource` with every operation applied in order, or 422 naming the first that failed.
    pub fn apply(&self, resource: &Value) -> Result<Value, Error> {
        let res_type = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut doc = resource.clone();
        for (index, operation) in self.0.iter().enumerate() {
            apply_one(&mut doc, &res_type, operation).map_err(|why| {
                Error::Unprocessable(vec![
                    Issue::error(
                        IssueType::Processing,
                        PatchMessage::OperationFailed {
                            index,
                            op: operation.kind.to_string(),
                            path: operation.path.clone(),
                            why,
                        },
                    )
                    .at(format!("Parameters.parameter[{index}]")),
                ])
            })?;
        }
        Ok(doc)
    }
}

/// The JSON Pointers of the nodes `expression` selects in `doc`.
fn targets(doc: &Value, expression: &Expression) -> Result<Vec<String>, PatchFailure> {
    let items = fhirpath::evaluate(expression, doc, None, &Env::new(doc))
        .map_err(|_| PatchFailure::BadPath)?;
    let mut pointers = Vec::new();
    for item in &items {
        let Item::Node(node) = item else {
            return Err(PatchFailure::BadPath);
        };
        let Some(value) = node.value else {
            return Err(PatchFailure::BadPath);
        };
        pointers.push(pointer_of(doc, value, String::new()).ok_or(PatchFailure::BadPath)?);
    }
    Ok(pointers)
}

/// Where `target` sits in `doc`, found by identity.
fn pointer_of(doc: &Value, target: &Value, at: String) -> Option<String> {
    if std::ptr::eq(doc, target) {
        return Some(at);
    }
    match doc {
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let key = k.replace('~', "~0").replace('/', "~1");
            pointer_of(v, target, format!("{at}/{key}"))
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| pointer_of(v, target, format!("{at}/{i}"))),
        _ => None,
    }
}

fn one(pointers: Vec<String>) -> Result<String, PatchFailure> {
    match <[String; 1]>::try_from(pointers) {
        Ok([p]) => Ok(p),
        Err(_) => Err(PatchFailure::BadPath),
    }
}

/// The element path (`Patient.contact.telecom`) of a pointer, for the model.
fn element_path(res_type: &str, pointer: &str) -> String {
    let mut path = res_type.to_string();
    for segment in pointer.split('/').skip(1) {
        if segment.parse::<usize>().is_err() {
            path.push('.');
            path.push_str(segment);
        }
    }
    path
}

fn repeats(res_type: &str, parent: &str, name: &str) -> bool {
    let path = format!("{}.{name}", element_path(res_type, parent));
    crate::model::BaseModel::load_embedded()
        .ok()
        .and_then(|m| m.element(&path).map(|e| e.is_array()))
        .unwrap_or(false)
}

fn list_at<'v>(doc: &'v mut Value, pointer: &str) -> Result<&'v mut Vec<Value>, PatchFailure> {
    doc.pointer_mut(pointer)
        .and_then(Value::as_array_mut)
        .ok_or(PatchFailure::BadPath)
}

fn apply_one(doc: &mut Value, res_type: &str, operation: &Operation) -> Result<(), PatchFailure> {
    let found = targets(doc, &operation.expression)?;
    match &operation.op {
        Op::Add { name, value } => {
            let parent = one(found)?;
            let repeating = repeats(res_type, &parent, name);
            let object = doc
                .pointer_mut(&parent)
                .and_then(Value::as_object_mut)
                .ok_or(PatchFailure::BadPath)?;
            match object.get_mut(name.as_str()) {
                Some(Value::Array(items)) => items.push(value.clone()),
                Some(_) => return Err(PatchFailure::BadPath),
                None if repeating => {
                    object.insert(name.clone(), Value::Array(vec![value.clone()]));
                }
                None => {
                    object.insert(name.clone(), value.clone());
                }
            }
        }
        Op::Replace { value } => {
            let at = one(found)?;
            *doc.pointer_mut(&at).ok_or(PatchFailure::BadPath)? = value.clone();
        }
        Op::Delete => match found.len() {
            0 => {}
            1 => remove(doc, &found[0])?,
            _ => return Err(PatchFailure::BadPath),
        },
        // The path names the list itself: its items are what the expression returns.
        Op::Insert { index, value } => {
            let list = list_of(doc, found)?;
            let items = list_at(doc, &list)?;
            if *index > items.len() {
                return Err(PatchFailure::BadPath);
            }
            items.insert(*index, value.clone());
        }
        Op::Move {
            source,
            destination,
        } => {
            let list = list_of(doc, found)?;
            let items = list_at(doc, &list)?;
            if *source >= items.len() || *destination >= items.len() {
                return Err(PatchFailure::BadFrom);
            }
            let moved = items.remove(*source);
            items.insert(*destination, moved);
        }
    }
    Ok(())
}

/// The pointer of the array the items `found` are members of (all of one array).
fn list_of(doc: &Value, found: Vec<String>) -> Result<String, PatchFailure> {
    let parents: Vec<String> = found
        .iter()
        .filter_map(|p| p.rsplit_once('/').map(|(parent, _)| parent.to_string()))
        .collect();
    let first = parents.first().ok_or(PatchFailure::BadPath)?;
    let same = parents.iter().all(|p| p == first);
    let is_list = doc.pointer(first).is_some_and(Value::is_array);
    if same && is_list && parents.len() == found.len() {
        Ok(first.clone())
    } else {
        Err(PatchFailure::BadPath)
    }
}

/// Removes what `pointer` names; a list left empty goes too, as FHIR JSON has no empty arrays.
fn remove(doc: &mut Value, pointer: &str) -> Result<(), PatchFailure> {
    let (parent, last) = pointer.rsplit_once('/').ok_or(PatchFailure::BadPath)?;
    let key = last.replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent).ok_or(PatchFailure::BadPath)? {
        Value::Object(map) => {
            map.shift_remove(&key);
        }
        Value::Array(items) => {
            let i: usize = key.parse().map_err(|_| PatchFailure::BadPath)?;
            if i >= items.len() {
                return Err(PatchFailure::BadPath);
            }
            items.remove(i);
            if items.is_empty() {
                return remove(doc, parent);
            }
        }
        _ => return Err(PatchFailure::BadPath),
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(kind: &str, path: &str, extra: Vec<Value>) -> Value {
        let mut part = vec![
            json!({"name": "type", "valueCode": kind}),
            json!({"name": "path", "valueString": path}),
        ];
        part.extend(extra);
        json!({"name": "operation", "part": part})
    }

    fn apply(ops: Vec<Value>, resource: &Value) -> Result<Value, Error> {
        FhirPathPatch::parse(&json!({"resourceType": "Parameters", "parameter": ops}))?
            .apply(resource)
    }

    #[test]
    fn each_operation_changes_what_its_path_finds() {
        let r = json!({"resourceType": "Patient", "id": "p", "gender": "male",
            "name": [{"family": "山田", "given": ["太郎"]}],
            "telecom": [{"value": "1"}, {"value": "2"}, {"value": "3"}]});
        let out = apply(
            vec![
                op(
                    "replace",
                    "Patient.gender",
                    vec![json!({"name": "value", "valueCode": "female"})],
                ),
                op(
                    "add",
                    "Patient.name[0]",
                    vec![
                        json!({"name": "name", "valueString": "given"}),
                        json!({"name": "value", "valueString": "花子"}),
                    ],
                ),
                op(
                    "add",
                    "Patient",
                    vec![
                        json!({"name": "name", "valueString": "identifier"}),
                        json!({"name": "value", "part": [
                            {"name": "system", "valueUri": "urn:x"},
                            {"name": "value", "valueString": "1"}]}),
                    ],
                ),
                op("delete", "Patient.telecom[1]", vec![]),
                op(
                    "insert",
                    "Patient.telecom",
                    vec![
                        json!({"name": "index", "valueInteger": 0}),
                        json!({"name": "value", "part": [{"name": "value", "valueString": "0"}]}),
                    ],
                ),
                op(
                    "move",
                    "Patient.telecom",
                    vec![
                        json!({"name": "source", "valueInteger": 2}),
                        json!({"name": "destination", "valueInteger": 0}),
                    ],
                ),
                op("delete", "Patient.birthDate", vec![]),
            ],
            &r,
        )
        .unwrap();
        assert_eq!(out["gender"], "female");
        assert_eq!(out["name"][0]["given"], json!(["太郎", "花子"]));
        assert_eq!(
            out["identifier"],
            json!([{"system": "urn:x", "value": "1"}])
        );
        let telecom: Vec<&str> = out["telecom"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["value"].as_str().unwrap())
            .collect();
        assert_eq!(telecom, ["3", "0", "1"]);
    }

    #[test]
    fn an_operation_that_finds_nothing_to_change_is_422_naming_it() {
        let r = json!({"resourceType": "Patient", "id": "p"});
        let e = apply(
            vec![
                op("delete", "Patient.gender", vec![]),
                op(
                    "replace",
                    "Patient.gender",
                    vec![json!({"name": "value", "valueCode": "male"})],
                ),
            ],
            &r,
        )
        .unwrap_err();
        assert_eq!(e.classify().0.as_u16(), 422);
        assert_eq!(
            e.outcome().issues[0].expression,
            vec!["Parameters.parameter[1]".to_string()]
        );
        let e = FhirPathPatch::parse(&json!({"resourceType": "Parameters", "parameter": [
            op("frobnicate", "Patient", vec![])]}))
        .unwrap_err();
        assert_eq!(e.classify().0.as_u16(), 400);
    }
}
