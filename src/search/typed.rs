//! Readers of the search values added with the number, quantity, uri and composite parameter
//! types and with the terminology modifiers of tokens: each turns one comma-separated item
//! into [`Value`]s, or says why it cannot. The parser (`query`) decides which reader applies.

use super::composite::{Parts, Second};
use super::number::{parse_number, parse_quantity};
use super::query::{split_unescaped, token_value, unescape};
use super::terminology::ConceptSource;
use super::{TokenSystem, UriMatch, Value};

/// `[prefix]number`.
pub(super) fn number_value(item: &str) -> Result<Value, String> {
    Ok(Value::Number(parse_number(&unescape(item))?))
}

/// `[prefix]number`, `[prefix]number|system|code` or `[prefix]number||code`.
pub(super) fn quantity_value(item: &str) -> Result<Value, String> {
    let parts: Vec<String> = split_unescaped(item, '|')
        .into_iter()
        .map(unescape)
        .collect();
    let (number, unit) = parts
        .split_first()
        .ok_or_else(|| "a quantity needs a number".to_string())?;
    Ok(Value::Quantity(parse_quantity(number, unit)?))
}

/// A uri compared whole, or as a prefix (`:below`), or as what it starts with (`:above`).
pub(super) fn uri_value(item: &str, mode: UriMatch) -> Result<Value, String> {
    let uri = unescape(item);
    if uri.chars().any(char::is_whitespace) {
        return Err("a uri contains no whitespace".to_string());
    }
    Ok(Value::Uri { uri, mode })
}

/// `token$value` of a composite: the code of an element and its quantity or concept.
pub(super) fn composite_value(parts: &Parts, item: &str) -> Result<Value, String> {
    let [token, value] = split_unescaped(item, '$')[..] else {
        return Err(format!(
            "'{}' takes two parts: code${}",
            parts.name,
            match parts.second {
                Second::Quantity => "quantity",
                Second::Concept => "code",
            }
        ));
    };
    if token.is_empty() || value.is_empty() {
        return Err("both parts of a composite value must be given".to_string());
    }
    let token = token_value(token)?;
    let value = match parts.second {
        Second::Quantity => quantity_value(value)?,
        Second::Concept => token_value(value)?,
    };
    Ok(Value::Composite {
        token: Box::new(token),
        value: Box::new(value),
    })
}

/// Which terminology question a token modifier asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ConceptModifier {
    Above,
    Below,
    /// `:in` and `:not-in` (the clause is negated for the latter).
    In,
}

/// The codes a token modifier stands for, as plain token values. `Value::Nothing` when the
/// terminology names no code, so the clause still matches nothing rather than everything.
pub(super) fn concept_values(
    source: Option<&ConceptSource>,
    modifier: ConceptModifier,
    item: &str,
) -> Result<Vec<Value>, String> {
    let source = source.ok_or_else(|| "this server has no terminology to apply it".to_string())?;
    let codes = match modifier {
        ConceptModifier::In => {
            let url = unescape(item);
            source.0.members(&url)?
        }
        ConceptModifier::Above | ConceptModifier::Below => {
            let Value::Token {
                system: TokenSystem::Is(system),
                code: Some(code),
            } = token_value(item)?
            else {
                return Err("subsumption needs system|code".to_string());
            };
            let codes = if modifier == ConceptModifier::Below {
                source.0.below(&system, &code)?
            } else {
                source.0.above(&system, &code)?
            };
            codes.into_iter().map(|c| (system.clone(), c)).collect()
        }
    };
    if codes.is_empty() {
        return Ok(vec![Value::Nothing]);
    }
    Ok(codes
        .into_iter()
        .map(|(system, code)| Value::Token {
            system: TokenSystem::Is(system),
            code: Some(code),
        })
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::query::{QueryOptions, parse};
    use super::super::terminology::fake::SYSTEM;
    use super::super::{Error, ParamKind, Prefix, SearchQuery, Target};
    use super::*;

    fn query(resource_type: &str, params: &[(&str, &str)]) -> Result<SearchQuery, Error> {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(resource_type, &params, &QueryOptions::for_tests(false))
    }

    fn values(resource_type: &str, name: &str, value: &str) -> Vec<Value> {
        let q = query(resource_type, &[(name, value)]).unwrap();
        assert_eq!(q.clauses.len(), 1, "{name}={value}");
        q.clauses[0].values.clone()
    }

    fn invalid(resource_type: &str, name: &str, value: &str) -> bool {
        matches!(
            query(resource_type, &[(name, value)]),
            Err(Error::InvalidValue { .. })
        )
    }

    fn token(system: &str, code: &str) -> Value {
        Value::Token {
            system: TokenSystem::Is(system.into()),
            code: Some(code.into()),
        }
    }

    #[test]
    fn numbers_and_quantities_with_prefixes_and_units() {
        let [Value::Number(n)] = &values("RiskAssessment", "probability", "ge0.5")[..] else {
            panic!()
        };
        assert_eq!((n.prefix, n.value), (Prefix::Ge, 0.5));
        let q = query("RiskAssessment", &[("probability", "0.5")]).unwrap();
        assert_eq!(q.clauses[0].target, Target::Index(ParamKind::Number));
        let [Value::Quantity(q)] = &values(
            "Observation",
            "value-quantity",
            "lt5.4|http://unitsofmeasure.org|mg",
        )[..] else {
            panic!()
        };
        assert_eq!(q.number.prefix, Prefix::Lt);
        assert!((q.number.value - 0.0054).abs() < 1e-12);
        assert_eq!(
            q.unit,
            crate::search::number::QuantityUnit::Canonical { unit: "g".into() }
        );
        assert_eq!(values("Observation", "value-quantity", "5,6").len(), 2);
        for bad in ["abc", "5|a", "5|http://x|", "xx5", "5|a|b|c"] {
            assert!(invalid("Observation", "value-quantity", bad), "{bad}");
        }
        assert!(invalid("RiskAssessment", "probability", "1.2.3"));
    }

    #[test]
    fn uris_exact_above_and_below() {
        assert_eq!(
            values("Procedure", "instantiates-uri:below", "http://x/a"),
            vec![Value::Uri {
                uri: "http://x/a".into(),
                mode: UriMatch::Below
            }]
        );
        assert_eq!(
            values("Patient", "_profile:above", "http://x/a/b"),
            vec![Value::Uri {
                uri: "http://x/a/b".into(),
                mode: UriMatch::Above
            }]
        );
        assert_eq!(
            values("Patient", "_source", "http://x"),
            vec![Value::Uri {
                uri: "http://x".into(),
                mode: UriMatch::Exact
            }]
        );
        assert_eq!(values("Patient", "_tag", "s|t"), vec![token("s", "t")]);
        assert!(
            query("Patient", &[("_security:not", "s|R")])
                .unwrap()
                .clauses[0]
                .negate
        );
    }

    #[test]
    fn composites_pair_a_code_with_a_value() {
        let [Value::Composite { token: t, value }] = &values(
            "Observation",
            "code-value-quantity",
            "http://loinc.org|8480-6$gt100",
        )[..] else {
            panic!()
        };
        assert_eq!(**t, token("http://loinc.org", "8480-6"));
        assert!(matches!(**value, Value::Quantity(_)));
        let [Value::Composite { value, .. }] =
            &values("Observation", "code-value-concept", "a$s|high")[..]
        else {
            panic!()
        };
        assert_eq!(**value, token("s", "high"));
        for bad in ["a", "a$", "$5", "a$5$6", "a$x5"] {
            assert!(invalid("Observation", "code-value-quantity", bad), "{bad}");
        }
    }

    #[test]
    fn terminology_modifiers_become_codes_or_are_refused() {
        assert_eq!(
            values("Observation", "code:below", &format!("{SYSTEM}|b")),
            vec![token(SYSTEM, "b"), token(SYSTEM, "c")]
        );
        assert_eq!(
            values("Observation", "code:above", &format!("{SYSTEM}|c")),
            vec![token(SYSTEM, "c"), token(SYSTEM, "b"), token(SYSTEM, "a")]
        );
        assert_eq!(
            values("Observation", "code:in", "http://example.org/vs"),
            vec![token(SYSTEM, "a"), token(SYSTEM, "d")]
        );
        let q = query("Observation", &[("code:not-in", "http://example.org/vs")]).unwrap();
        assert!(q.clauses[0].negate);
        assert_eq!(
            values("Observation", "code:in", "http://example.org/empty"),
            vec![Value::Nothing]
        );
        assert!(invalid("Observation", "code:below", "b"), "no system");
        assert!(invalid("Observation", "code:below", "http://other|b"));
        assert!(invalid(
            "Observation",
            "code:in",
            "http://example.org/unknown"
        ));
        let none = QueryOptions {
            concepts: None,
            ..QueryOptions::for_tests(false)
        };
        let params = vec![("code:in".to_string(), "http://example.org/vs".to_string())];
        assert!(matches!(
            parse("Observation", &params, &none),
            Err(Error::InvalidValue { .. })
        ));
        let tight = QueryOptions {
            max_values: 1,
            ..QueryOptions::for_tests(false)
        };
        assert!(matches!(
            parse("Observation", &params, &tight),
            Err(Error::TooManyValues { .. })
        ));
    }
}
