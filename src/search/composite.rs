//! Composite search parameters (`code-value-quantity=http://loinc.org|8480-6$gt100`): a code and
//! a value that must belong to the same element, the Observation itself or one of its
//! components, so a panel whose systolic component is 120 and diastolic is 80 does not match
//! "systolic 80". A composite of a repeating element (a component) is indexed as rows that
//! pair the element's codings with its value: quantities in `search_quantity_pair` (with the
//! coding), concepts in `search_token_pair`. A composite of the resource itself has one code
//! and one value, so its rows would be exactly its parts' rows on the same resource: it is
//! searched as both parts' own parameters ([`Parts::own`]) and writes no rows. Every index row
//! costs index pages written with each commit, and a lab Observation wrote one per coding.
//! Spec: <https://hl7.org/fhir/R4/search.html#composite>

use serde_json::Value;

use super::extract::{quantity_row, tokens_of, walk};
use super::params::ParamKind;
use super::{IndexRows, TokenPairValue};

/// What the second part of a composite is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Second {
    /// A Quantity, searched like a quantity parameter.
    Quantity,
    /// A CodeableConcept, searched like a token.
    Concept,
}

impl Second {
    /// The kind of the value part's own parameter (`value-quantity`, `value-concept`).
    pub fn kind(self) -> ParamKind {
        match self {
            Second::Quantity => ParamKind::Quantity,
            Second::Concept => ParamKind::Token,
        }
    }
}

/// The parts of one composite parameter.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    pub name: &'static str,
    /// Elements holding both parts: `""` is the resource itself.
    pub elements: &'static [&'static str],
    /// The first part (a token) inside each element.
    pub code: &'static str,
    /// The second part inside each element.
    pub value: &'static str,
    pub second: Second,
    /// For a composite of the resource itself: the parameters of its two parts (the code's
    /// token parameter and the value's), whose rows on one resource are the composite's.
    pub own: Option<(&'static str, &'static str)>,
}

const OBSERVATION: &[Parts] = &[
    Parts {
        own: Some(("code", "value-quantity")),
        ..parts("code-value-quantity", &[""], Second::Quantity)
    },
    Parts {
        own: Some(("code", "value-concept")),
        ..parts("code-value-concept", &[""], Second::Concept)
    },
    parts(
        "component-code-value-quantity",
        &["component"],
        Second::Quantity,
    ),
    parts(
        "component-code-value-concept",
        &["component"],
        Second::Concept,
    ),
    parts(
        "combo-code-value-quantity",
        &["", "component"],
        Second::Quantity,
    ),
    parts(
        "combo-code-value-concept",
        &["", "component"],
        Second::Concept,
    ),
];

const fn parts(name: &'static str, elements: &'static [&'static str], second: Second) -> Parts {
    Parts {
        name,
        elements,
        code: "code",
        value: match second {
            Second::Quantity => "valueQuantity",
            Second::Concept => "valueCodeableConcept",
        },
        second,
        own: None,
    }
}

/// The composites of `resource_type`.
pub fn composites_of(resource_type: &str) -> &'static [Parts] {
    match resource_type {
        "Observation" => OBSERVATION,
        _ => &[],
    }
}

/// The parts of the composite `name` of `resource_type`.
pub fn parts_of(resource_type: &str, name: &str) -> Option<&'static Parts> {
    composites_of(resource_type).iter().find(|p| p.name == name)
}

/// Adds the rows of every composite of `resource_type`: each coding of an element's code with
/// each value of the same element.
pub fn extract(resource_type: &str, resource: &Value, rows: &mut IndexRows) {
    for p in composites_of(resource_type) {
        if p.own.is_some() || super::unions::union_of(resource_type, p.name).is_some() {
            continue;
        }
        for element in p.elements.iter().flat_map(|path| elements(resource, path)) {
            let mut codes = Vec::new();
            for code in walk(element, p.code) {
                tokens_of(code, &mut codes);
            }
            if codes.is_empty() {
                continue;
            }
            for value in walk(element, p.value) {
                match p.second {
                    Second::Quantity => {
                        let Some(row) = quantity_row(p.name, value) else {
                            continue;
                        };
                        for (system, code) in &codes {
                            rows.quantities.push(super::QuantityRow {
                                component: Some((system.clone(), code.clone())),
                                ..row.clone()
                            });
                        }
                    }
                    Second::Concept => {
                        let mut values = Vec::new();
                        tokens_of(value, &mut values);
                        for (system, code) in &codes {
                            for (value_system, value_code) in &values {
                                rows.token_pairs.push(TokenPairValue {
                                    param: p.name,
                                    system: system.clone(),
                                    code: code.clone(),
                                    value_system: value_system.clone(),
                                    value_code: value_code.clone(),
                                });
                            }
                        }
                    }
                }
            }
        }
    }
}

fn elements<'a>(resource: &'a Value, path: &str) -> Vec<&'a Value> {
    if path.is_empty() {
        vec![resource]
    } else {
        walk(resource, path)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    const LOINC: &str = "http://loinc.org";

    fn blood_pressure() -> Value {
        json!({
            "resourceType": "Observation",
            "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
            "component": [
                {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                 "valueQuantity": {"value": 120, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
                {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                 "valueQuantity": {"value": 80, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
                {"code": {"coding": [{"system": LOINC, "code": "x"}]},
                 "valueCodeableConcept": {"coding": [{"system": "s", "code": "high"}]}}
            ]
        })
    }

    /// The combo-* composites are searched in these rows (`search::unions`), so none of
    /// their own are written.
    #[test]
    fn components_pair_their_own_code_and_value() {
        let mut rows = IndexRows::default();
        extract("Observation", &blood_pressure(), &mut rows);
        let pairs: Vec<(&str, String, f64)> = rows
            .quantities
            .iter()
            .map(|q| {
                let (_, code) = q.component.as_ref().unwrap();
                (q.param, code.clone(), q.value)
            })
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("component-code-value-quantity", "8480-6".into(), 120.0),
                ("component-code-value-quantity", "8462-4".into(), 80.0),
            ]
        );
        let concepts: Vec<(&str, &str, &str)> = rows
            .token_pairs
            .iter()
            .map(|t| (t.param, t.code.as_str(), t.value_code.as_str()))
            .collect();
        assert_eq!(
            concepts,
            vec![("component-code-value-concept", "x", "high")]
        );
    }

    /// A composite is searched as its parts only while it is exactly them: of the resource
    /// itself, its code part the token parameter of the same element, its value part the
    /// parameter of the same value.
    #[test]
    fn a_composite_of_the_resource_is_exactly_its_parts() {
        use crate::search::params::param_def;
        for p in composites_of("Observation") {
            let Some((code, value)) = p.own else {
                assert_ne!(p.elements, &[""], "{}", p.name);
                continue;
            };
            assert_eq!(p.elements, &[""], "{}", p.name);
            let code = param_def("Observation", code).unwrap();
            assert_eq!((code.kind, code.paths), (ParamKind::Token, &[p.code][..]));
            let value = param_def("Observation", value).unwrap();
            assert_eq!(
                (value.kind, value.paths),
                (p.second.kind(), &[p.value][..]),
                "{}",
                p.name
            );
        }
    }

    #[test]
    fn an_observation_s_own_code_and_value_write_no_pair() {
        let lab = json!({
            "resourceType": "Observation",
            "code": {"coding": [{"system": LOINC, "code": "2345-7"}, {"system": "l", "code": "GLU"}]},
            "valueQuantity": {"value": 95, "system": "http://unitsofmeasure.org", "code": "mg/dL"}
        });
        let mut rows = IndexRows::default();
        extract("Observation", &lab, &mut rows);
        assert_eq!(rows, IndexRows::default());
    }

    #[test]
    fn only_observations_have_composites() {
        let mut rows = IndexRows::default();
        extract("Condition", &blood_pressure(), &mut rows);
        assert_eq!(rows, IndexRows::default());
        assert!(parts_of("Observation", "code-value-quantity").is_some());
        assert!(parts_of("Observation", "code").is_none());
    }
}
