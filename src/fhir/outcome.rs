//! OperationOutcome: how every error and warning reaches the client.
//! Spec: <https://hl7.org/fhir/R4/operationoutcome.html>

use serde_json::{Value, json};

use super::service_rule::{RULE_SYSTEM, ServiceRule};
use crate::messages::requests::not_reported;
use crate::messages::{self, Language, Message, RequestMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueSeverity {
    Fatal,
    Error,
    Warning,
    Information,
}

impl IssueSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueSeverity::Fatal => "fatal",
            IssueSeverity::Error => "error",
            IssueSeverity::Warning => "warning",
            IssueSeverity::Information => "information",
        }
    }
}

/// The subset of the `issue-type` code system the server emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueType {
    Invalid,
    Structure,
    Required,
    Value,
    Invariant,
    Security,
    Login,
    Forbidden,
    Processing,
    NotSupported,
    Duplicate,
    MultipleMatches,
    NotFound,
    Deleted,
    TooLong,
    CodeInvalid,
    Conflict,
    Exception,
    Timeout,
    TooCosty,
    Transient,
    /// The persistent store cannot take the request now (down, or out of space).
    NoStore,
    Informational,
}

impl IssueType {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueType::Invalid => "invalid",
            IssueType::Structure => "structure",
            IssueType::Required => "required",
            IssueType::Value => "value",
            IssueType::Invariant => "invariant",
            IssueType::Security => "security",
            IssueType::Login => "login",
            IssueType::Forbidden => "forbidden",
            IssueType::Processing => "processing",
            IssueType::NotSupported => "not-supported",
            IssueType::Duplicate => "duplicate",
            IssueType::MultipleMatches => "multiple-matches",
            IssueType::NotFound => "not-found",
            IssueType::Deleted => "deleted",
            IssueType::TooLong => "too-long",
            IssueType::CodeInvalid => "code-invalid",
            IssueType::Conflict => "conflict",
            IssueType::Exception => "exception",
            IssueType::Timeout => "timeout",
            IssueType::TooCosty => "too-costly",
            IssueType::Transient => "transient",
            IssueType::NoStore => "no-store",
            IssueType::Informational => "informational",
        }
    }
}

/// The words of an issue: English always, and the catalogue message they were rendered from
/// when there is one (then the issue can be written in another language).
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    english: String,
    // Boxed: a Text travels inside errors, which stay small for `Result`.
    message: Option<Box<Message>>,
}

impl From<String> for Text {
    fn from(english: String) -> Self {
        Text {
            english,
            message: None,
        }
    }
}

impl From<&String> for Text {
    fn from(english: &String) -> Self {
        Text::from(english.clone())
    }
}

impl From<&str> for Text {
    fn from(english: &str) -> Self {
        Text::from(english.to_string())
    }
}

impl From<Message> for Text {
    fn from(message: Message) -> Self {
        Text {
            english: message.render(Language::English),
            message: Some(Box::new(message)),
        }
    }
}

/// Each family of catalogue messages is an issue's text, as its [`Message`].
macro_rules! text_from_family {
    ($($ty:ident),* $(,)?) => {$(
        impl From<messages::$ty> for Text {
            fn from(m: messages::$ty) -> Self {
                Text::from(Message::from(m))
            }
        }
    )*};
}

text_from_family!(
    RequestMessage,
    ValidationMessage,
    ServiceMessage,
    ValueMessage,
    ConformanceMessage,
    DocumentMessage,
    InteractionMessage,
    PatchMessage,
    BundleMessage,
    QuestionnaireMessage,
    TerminologyMessage,
);

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english)
    }
}

impl Text {
    /// The catalogue message, when the text came from one.
    pub fn message(&self) -> Option<&Message> {
        self.message.as_deref()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub severity: IssueSeverity,
    pub code: IssueType,
    /// In English; the answer renders [`Issue::message`] in the client's language instead.
    pub diagnostics: String,
    pub message: Option<Message>,
    /// FHIRPath locations of the offending element(s), e.g. `Observation.subject`.
    pub expression: Vec<String>,
    /// The rule that raised it (profile URL + element id or constraint key), when a rule did.
    pub source: Option<String>,
    /// The service rule broken (number, text as its author wrote it): `details`.
    pub rule: Option<ServiceRule>,
}

impl Issue {
    pub fn new(severity: IssueSeverity, code: IssueType, text: impl Into<Text>) -> Self {
        let Text { english, message } = text.into();
        let message = message.map(|m| *m);
        // A hand-coded service rule's number comes with its message from the catalogue.
        let rule = match &message {
            Some(Message::Service(m)) => m.rule().map(ServiceRule::numbered),
            _ => None,
        };
        Issue {
            severity,
            code,
            diagnostics: english,
            message,
            expression: Vec::new(),
            source: None,
            rule,
        }
    }

    pub fn error(code: IssueType, text: impl Into<Text>) -> Self {
        Issue::new(IssueSeverity::Error, code, text)
    }

    pub fn warning(code: IssueType, text: impl Into<Text>) -> Self {
        Issue::new(IssueSeverity::Warning, code, text)
    }

    pub fn information(text: impl Into<Text>) -> Self {
        Issue::new(IssueSeverity::Information, IssueType::Informational, text)
    }

    pub fn at(mut self, expression: impl Into<String>) -> Self {
        self.expression.push(expression.into());
        self
    }

    pub fn from_rule(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Names the service rule the issue reports against (`details`).
    pub fn breaking(mut self, rule: Option<ServiceRule>) -> Self {
        self.rule = rule;
        self
    }

    /// The diagnostics in `language`: the catalogue's words when the issue has a message, else
    /// the text as it was composed.
    pub fn text(&self, language: Language) -> String {
        match (&self.message, language) {
            (Some(m), Language::Japanese) => m.render(language),
            _ => self.diagnostics.clone(),
        }
    }

    /// Whether the issue can be written in `language` (English always can).
    pub fn speaks(&self, language: Language) -> bool {
        language == Language::English || self.message.is_some()
    }

    fn to_json(&self, language: Language) -> Value {
        let text = self.text(language);
        let mut issue = json!({
            "severity": self.severity.as_str(),
            "code": self.code.as_str(),
        });
        // The rule's own words (an IG's invariant text) are the details whatever the language:
        // they are the authority, and JP-CLINS writes them in Japanese only.
        let rule = self.rule.as_ref();
        let mut details = json!({
            "text": rule.and_then(|r| r.text.as_deref()).unwrap_or(&text),
        });
        if let Some(number) = rule.and_then(|r| r.number.as_deref()) {
            let display = rule.and_then(ServiceRule::display).unwrap_or(&text);
            details["coding"] = json!([{
                "system": RULE_SYSTEM,
                "code": number,
                "display": display,
            }]);
        }
        issue["details"] = details;
        issue["diagnostics"] = Value::String(text);
        if let Some(source) = &self.source {
            issue["extension"] = json!([{
                "url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-source",
                "valueString": source,
            }]);
        }
        if !self.expression.is_empty() {
            issue["expression"] = json!(self.expression);
        }
        issue
    }
}

/// How many issues an OperationOutcome carries unless configured (`--max-issues`).
pub const DEFAULT_MAX_ISSUES: usize = 100;

/// Keeps the first `max` issues (callers sort them, errors first) and says in one more issue how
/// many were left out, so a hostile instance cannot make an answer of millions of issues.
/// `stopped`: whoever produced them stopped looking at the limit, so the rest of the instance
/// was not checked — an error, since nobody can say it is valid. Capping again (issues merged
/// from several checks) folds an earlier note into the new one.
pub fn cap_issues(issues: &mut Vec<Issue>, max: usize, stopped: bool) {
    let (mut omitted, mut stopped) = (0, stopped);
    issues.retain(|i| match omission(i) {
        Some((n, s)) => {
            omitted += n;
            stopped |= s;
            false
        }
        None => true,
    });
    if issues.len() > max {
        omitted += issues.len() - max;
        issues.truncate(max);
    }
    if omitted == 0 && !stopped {
        return;
    }
    let severity = if stopped {
        IssueSeverity::Error
    } else {
        IssueSeverity::Information
    };
    let note = RequestMessage::NotReported {
        count: omitted,
        max,
        stopped,
    };
    issues.push(Issue::new(severity, IssueType::TooCosty, note));
}

/// An issue [`cap_issues`] added: how many it counted and whether checking stopped.
fn omission(issue: &Issue) -> Option<(usize, bool)> {
    if issue.code != IssueType::TooCosty || !issue.expression.is_empty() {
        return None;
    }
    not_reported(&issue.diagnostics)
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperationOutcome {
    pub issues: Vec<Issue>,
}

impl OperationOutcome {
    pub fn new(issues: Vec<Issue>) -> Self {
        OperationOutcome { issues }
    }

    pub fn single(issue: Issue) -> Self {
        OperationOutcome {
            issues: vec![issue],
        }
    }

    /// The resource in English.
    pub fn to_json(&self) -> Value {
        self.to_json_in(Language::English)
    }

    /// The resource with its texts in `language` where the catalogue has them.
    pub fn to_json_in(&self, language: Language) -> Value {
        let issues: Vec<Value> = if self.issues.is_empty() {
            // An OperationOutcome must carry at least one issue (cardinality 1..*).
            vec![Issue::information(RequestMessage::AllOk).to_json(language)]
        } else {
            self.issues.iter().map(|i| i.to_json(language)).collect()
        };
        json!({ "resourceType": "OperationOutcome", "issue": issues })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_outcome_still_has_one_issue() {
        let v = OperationOutcome::default().to_json();
        assert_eq!(v["issue"].as_array().unwrap().len(), 1);
        assert_eq!(v["issue"][0]["severity"], "information");
    }

    fn errors(n: usize) -> Vec<Issue> {
        (0..n)
            .map(|i| Issue::error(IssueType::Value, format!("bad {i}")).at("Patient.name"))
            .collect()
    }

    #[test]
    fn capped_issues_say_how_many_were_left_out() {
        let mut issues = errors(5);
        cap_issues(&mut issues, 3, false);
        assert_eq!(issues.len(), 4);
        assert_eq!(issues[3].severity, IssueSeverity::Information);
        assert!(issues[3].diagnostics.starts_with("2 more"), "{issues:?}");
        let mut few = errors(3);
        cap_issues(&mut few, 3, false);
        assert_eq!(few, errors(3));
    }

    #[test]
    fn capping_again_folds_the_earlier_note_and_keeps_the_stop() {
        let mut issues = errors(4);
        cap_issues(&mut issues, 3, true);
        assert_eq!(issues[3].severity, IssueSeverity::Error);
        let mut merged = errors(2);
        merged.extend(issues);
        cap_issues(&mut merged, 3, false);
        assert_eq!(merged.len(), 4);
        assert_eq!(merged[3].severity, IssueSeverity::Error);
        assert!(
            merged[3].diagnostics.starts_with("at least 3 more"),
            "{merged:?}"
        );
    }

    #[test]
    fn expression_is_listed_only_when_known() {
        let v =
            OperationOutcome::single(Issue::error(IssueType::Value, "bad").at("Patient.birthDate"))
                .to_json();
        assert_eq!(v["issue"][0]["expression"][0], "Patient.birthDate");
        let v = OperationOutcome::single(Issue::error(IssueType::Value, "bad")).to_json();
        assert!(v["issue"][0].get("expression").is_none());
    }
}
