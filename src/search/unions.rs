//! Parameters whose index rows would be exactly the rows of other parameters of the same type
//! together: Observation's `combo-*` parameters (the observation's own value or any
//! component's). Their rows are not stored; a search on one looks in the rows of its parts.
//! Every stored index row costs index pages written with each commit, and an Observation
//! would write each of its codes and values twice.

/// `(resource type, parameter, the parameters whose rows together are its rows)`.
const UNIONS: &[(&str, &str, &[&str])] = &[
    ("Observation", "combo-code", &["code", "component-code"]),
    (
        "Observation",
        "combo-value-concept",
        &["value-concept", "component-value-concept"],
    ),
    (
        "Observation",
        "combo-value-quantity",
        &["value-quantity", "component-value-quantity"],
    ),
    (
        "Observation",
        "combo-code-value-quantity",
        &["code-value-quantity", "component-code-value-quantity"],
    ),
    (
        "Observation",
        "combo-code-value-concept",
        &["code-value-concept", "component-code-value-concept"],
    ),
];

/// The parameters whose rows make up the rows of `param`, when it is such a union.
pub fn union_of(resource_type: &str, param: &str) -> Option<&'static [&'static str]> {
    UNIONS
        .iter()
        .find(|(t, p, _)| *t == resource_type && *p == param)
        .map(|(_, _, parts)| *parts)
}

/// The parameters whose rows a search on `param` reads: a union's parts, else `param` itself.
pub fn rows_of<'a>(resource_type: &str, param: &'a &'static str) -> &'a [&'static str] {
    union_of(resource_type, param).unwrap_or(std::slice::from_ref(param))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::search::composite::parts_of;
    use crate::search::params::param_def;

    /// A union is only sound while its definition is exactly its parts': same kind, and the
    /// paths (or, for a composite, the elements) of the parts laid end to end.
    #[test]
    fn each_union_is_exactly_its_parts() {
        for (resource_type, param, parts) in UNIONS {
            let def = param_def(resource_type, param).unwrap();
            let mut paths = Vec::new();
            let mut elements = Vec::new();
            for part in *parts {
                let p = param_def(resource_type, part).unwrap();
                assert_eq!(p.kind, def.kind, "{param}: {part}");
                assert!(union_of(resource_type, part).is_none(), "{part} is a union");
                paths.extend_from_slice(p.paths);
                if let Some(c) = parts_of(resource_type, part) {
                    let whole = parts_of(resource_type, param).unwrap();
                    assert_eq!(
                        (c.code, c.value, c.second),
                        (whole.code, whole.value, whole.second)
                    );
                    elements.extend_from_slice(c.elements);
                }
            }
            assert_eq!(def.paths, paths.as_slice(), "{param}");
            if let Some(whole) = parts_of(resource_type, param) {
                assert_eq!(whole.elements, elements.as_slice(), "{param}");
            }
        }
    }

    #[test]
    fn a_plain_parameter_is_no_union() {
        assert_eq!(union_of("Observation", "code"), None);
        assert_eq!(
            union_of("Observation", "combo-code"),
            Some(&["code", "component-code"][..])
        );
        assert_eq!(union_of("Condition", "combo-code"), None);
    }
}
