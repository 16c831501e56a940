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
