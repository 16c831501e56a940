//! Syntax rules of the Japanese code systems and identifiers.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
}

pub fn check_code(_system: &str, _code: &str) -> Vec<Finding> {
    Vec::new()
}

pub fn check_identifier(_system: &str, _value: &str) -> Vec<Finding> {
    Vec::new()
}

pub fn lookalike_hint(_text: &str) -> Option<String> {
    None
}
