//! The inputs and outputs of the terminology operations. A POST carries a Parameters resource, a
//! GET carries the same inputs as query parameters (primitives only, plus `coding` written
//! `system|code`); in a POST, query parameters fill what the body does not say.
//! Spec: <https://hl7.org/fhir/R4/operations.html#request>

use serde_json::{Value, json};

use crate::error::Error;
use crate::messages::TerminologyMessage as M;

/// The keys a text-like input may be carried under in a Parameters body.
const TEXT_KEYS: &[&str] = &[
    "valueString",
    "valueUri",
    "valueCode",
    "valueCanonical",
    "valueUrl",
    "valueId",
];
const INTEGER_KEYS: &[&str] = &["valueInteger", "valueUnsignedInt", "valuePositiveInt"];

/// A Coding as given in the inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coding {
    pub system: Option<String>,
    pub version: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
}

impl Coding {
    fn from_json(v: &Value) -> Self {
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        Coding {
            system: text("system"),
            version: text("version"),
            code: text("code"),
            display: text("display"),
        }
    }
}

#[derive(Debug, Clone)]
struct Param {
    name: String,
    /// The `parameter` element of the body, or `{"valueString": …}` for a query parameter.
    value: Value,
    from_query: bool,
}

/// The named inputs of one operation call.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    params: Vec<Param>,
}

impl Inputs {
    /// Reads a Parameters body (when there is one) and the query string. Query parameters
    /// starting with `_` (`_format`, `_pretty`) belong to the HTTP layer and are skipped.
    pub fn parse(body: Option<Value>, query: &[(String, String)]) -> Result<Self, Error> {
        let mut params = Vec::new();
        if let Some(b) = body {
            if b.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
                return Err(Error::invalid(M::NotParameters, "resourceType"));
            }
            for p in b
                .get("parameter")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = p.get("name").and_then(Value::as_str).ok_or_else(|| {
                    Error::invalid(M::ParameterWithoutName, "Parameters.parameter.name")
                })?;
                params.push(Param {
                    name: name.to_string(),
                    value: p.clone(),
                    from_query: false,
                });
            }
        }
        let in_body: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
        for (k, v) in query {
            if k.starts_with('_') || in_body.contains(k) {
                continue;
            }
            params.push(Param {
                name: k.clone(),
                value: json!({ "valueString": v }),
                from_query: true,
            });
        }
        Ok(Inputs { params })
    }

    pub fn has(&self, name: &str) -> bool {
        self.params.iter().any(|p| p.name == name)
    }

    fn one(&self, name: &str) -> Result<Option<&Param>, Error> {
        let mut found = self.params.iter().filter(|p| p.name == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(Error::invalid(
                M::GivenTwice {
                    name: name.to_string(),
                },
                name,
            ));
        }
        Ok(first)
    }

    /// A string, uri, code or canonical input; an empty value counts as absent.
    pub fn text(&self, name: &str) -> Result<Option<String>, Error> {
        match self.one(name)? {
            Some(p) => text_of(p, name).map(|t| t.filter(|t| !t.is_empty())),
            None => Ok(None),
        }
    }

    /// Every value of a repeatable text input.
    pub fn texts(&self, name: &str) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        for p in self.params.iter().filter(|p| p.name == name) {
            if let Some(t) = text_of(p, name)? {
                out.push(t);
            }
        }
        Ok(out)
    }

    pub fn integer(&self, name: &str) -> Result<Option<i64>, Error> {
        let Some(p) = self.one(name)? else {
            return Ok(None);
        };
        let bad = || {
            let name = name.to_string();
            Error::invalid(M::NotAnInteger { name: name.clone() }, name)
        };
        if let Some(n) = INTEGER_KEYS.iter().find_map(|k| p.value.get(*k)) {
            return n.as_i64().map(Some).ok_or_else(bad);
        }
        match p.value.get("valueString").and_then(Value::as_str) {
            Some(s) if p.from_query => s.trim().parse().map(Some).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }

    /// A Coding: `valueCoding` in a body, `system|code` in the query.
    pub fn coding(&self, name: &str) -> Result<Option<Coding>, Error> {
        let Some(p) = self.one(name)? else {
            return Ok(None);
        };
        if let Some(c) = p.value.get("valueCoding") {
            return Ok(Some(Coding::from_json(c)));
        }
        match p.value.get("valueString").and_then(Value::as_str) {
            Some(s) if p.from_query => {
                let (system, code) = s.split_once('|').ok_or_else(|| {
                    Error::invalid(
                        M::CodingInUrl {
                            name: name.to_string(),
                        },
                        name,
                    )
                })?;
                let some = |t: &str| Some(t.to_string()).filter(|t| !t.is_empty());
                Ok(Some(Coding {
                    system: some(system),
                    code: some(code),
                    ..Coding::default()
                }))
            }
            _ => Err(Error::invalid(
                M::NotACoding {
                    name: name.to_string(),
                },
                name,
            )),
        }
    }

    /// The codings of a CodeableConcept input (body only: it has no URL form).
    pub fn codeable_concept(&self, name: &str) -> Result<Option<Vec<Coding>>, Error> {
        let Some(p) = self.one(name)? else {
            return Ok(None);
        };
        let concept = p.value.get("valueCodeableConcept").ok_or_else(|| {
            let named = name.to_string();
            let message = if p.from_query {
                M::ConceptInUrl { name: named }
            } else {
                M::NotAConcept { name: named }
            };
            Error::invalid(message, name)
        })?;
        Ok(Some(
            concept
                .get("coding")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(Coding::from_json)
                .collect(),
        ))
    }

    /// Inputs this server does not implement and that would change the answer if ignored.
    pub fn refuse(&self, names: &[&str], operation: &'static str) -> Result<(), Error> {
        match names.iter().find(|n| self.has(n)) {
            Some(n) => Err(Error::NotSupported(
                M::NotSupported {
                    operation,
                    name: n.to_string(),
                }
                .into(),
            )),
            None => Ok(()),
        }
    }
}

fn text_of(p: &Param, name: &str) -> Result<Option<String>, Error> {
    match TEXT_KEYS
        .iter()
        .find_map(|k| p.value.get(*k).and_then(Value::as_str))
    {
        Some(t) => Ok(Some(t.to_string())),
        None => Err(Error::invalid(
            M::NotText {
                name: name.to_string(),
            },
            name,
        )),
    }
}

/// An output Parameters resource, built in order.
#[derive(Debug, Default)]
pub struct Output {
    parameters: Vec<Value>,
}

impl Output {
    pub fn push(&mut self, name: &str, key: &str, value: impl Into<Value>) {
        self.parameters
            .push(json!({ "name": name, key: value.into() }));
    }

    /// A parameter made of parts (each a ready `{"name", value[x]}` object).
    pub fn parts(&mut self, name: &str, parts: Vec<Value>) {
        self.parameters.push(json!({ "name": name, "part": parts }));
    }

    pub fn into_json(self) -> Value {
        json!({ "resourceType": "Parameters", "parameter": self.parameters })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn body_wins_and_the_query_fills_in() {
        let body = json!({"resourceType": "Parameters", "parameter": [
            {"name": "code", "valueCode": "a"},
            {"name": "coding", "valueCoding": {"system": "http://s", "code": "b"}},
            {"name": "count", "valueInteger": 5}
        ]});
        let inputs = Inputs::parse(
            Some(body),
            &q(&[("code", "z"), ("system", "http://s"), ("_format", "json")]),
        )
        .unwrap();
        assert_eq!(inputs.text("code").unwrap().as_deref(), Some("a"));
        assert_eq!(inputs.text("system").unwrap().as_deref(), Some("http://s"));
        assert!(!inputs.has("_format"));
        assert_eq!(inputs.integer("count").unwrap(), Some(5));
        assert_eq!(
            inputs.coding("coding").unwrap().unwrap().code.as_deref(),
            Some("b")
        );
    }

    #[test]
    fn query_forms_and_their_errors() {
        let inputs = Inputs::parse(
            None,
            &q(&[
                ("coding", "http://s|c"),
                ("count", "x"),
                ("codeableConcept", "c"),
                ("code", "1"),
                ("code", "2"),
                ("system", ""),
            ]),
        )
        .unwrap();
        let coding = inputs.coding("coding").unwrap().unwrap();
        assert_eq!(coding.system.as_deref(), Some("http://s"));
        assert_eq!(coding.code.as_deref(), Some("c"));
        assert!(inputs.integer("count").is_err());
        assert!(inputs.codeable_concept("codeableConcept").is_err());
        assert!(inputs.text("code").is_err());
        assert_eq!(inputs.text("system").unwrap(), None);
        assert!(
            Inputs::parse(Some(json!({"resourceType": "Patient"})), &[]).is_err(),
            "a body must be Parameters"
        );
    }
}
