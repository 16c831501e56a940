//! The question the profile walker asks of terminology: is this code in that value set? The
//! walker depends only on this trait; the value-set engine (and later the imported masters)
//! answer it.

use crate::fhir::IssueSeverity;
use crate::messages::Language;
use crate::messages::codes::CodeFinding;

/// The answer to a membership question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    Member,
    NotMember,
    /// Cannot be decided here (value set or code system not loaded, filter not supported…); the
    /// text says why, and the walker reports it as a warning on the element — never as a pass.
    Unknown(String),
}

/// A coded value to check: `system` is `None` for a plain `code` element; `version` is the
/// Coding's `version`, the edition of the code system the code was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodedValue<'a> {
    pub system: Option<&'a str>,
    pub version: Option<&'a str>,
    pub code: &'a str,
    pub display: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeCheck {
    pub membership: Membership,
}

/// Which part of a Coding (or Identifier) a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodedPart {
    Code,
    Display,
    /// `Identifier.value`.
    Value,
}

/// Something wrong with a coded value on its own terms (syntax of its code system, a code the
/// loaded system does not have, a display that is not the system's), whatever it is bound to;
/// or worth knowing about it (a display in another language than the system's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: IssueSeverity,
    pub part: CodedPart,
    pub message: CodeFinding,
}

impl Finding {
    pub fn is_error(&self) -> bool {
        matches!(self.severity, IssueSeverity::Error | IssueSeverity::Fatal)
    }

    /// The message in English, as logs and reports say it.
    pub fn text(&self) -> String {
        self.message.render(Language::English)
    }
}

pub trait BindingCheck: Send + Sync {
    /// Checks `value` against the value set `value_set` (a canonical, possibly `url|version`).
    fn check(&self, value_set: &str, value: CodedValue<'_>) -> CodeCheck;

    /// Checks `value` against a value set given as a resource, not by canonical: a ValueSet
    /// contained in the resource that binds to it (`answerValueSet` `#id`).
    fn check_resource(&self, value_set: &serde_json::Value, _value: CodedValue<'_>) -> CodeCheck {
        let id = value_set
            .get("id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        CodeCheck {
            membership: Membership::Unknown(format!(
                "the contained value set #{id} cannot be expanded here"
            )),
        }
    }

    /// Checks a Coding against its own code system: syntax, membership when the system is
    /// loaded, display.
    fn coding(&self, _value: CodedValue<'_>) -> Vec<Finding> {
        Vec::new()
    }

    /// Checks an Identifier value against the syntax of its system.
    fn identifier(&self, _system: &str, _value: &str) -> Vec<Finding> {
        Vec::new()
    }
}

/// Knows no value set: every question is `Unknown`. For tests and for a walker without terminology.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTerminology;

impl BindingCheck for NoTerminology {
    fn check(&self, value_set: &str, _value: CodedValue<'_>) -> CodeCheck {
        CodeCheck {
            membership: Membership::Unknown(format!("value set {value_set} is not loaded")),
        }
    }
}
