//! The message catalogue: the words of OperationOutcome issues, in English and Japanese.
//! Each kind of message is one enum variant whose two templates sit side by side, so a
//! translator reads them together and a new message cannot be added in one language only.
//! Issues keep the [`Message`] they were written from and are rendered in the language the
//! client asked for when the answer is written; logs and audit records stay in English.
//!
//! - [`requests`]: HTTP-level refusals (404, 405, 413, parse errors, storage…).
//! - [`validation`]: what the profile walk and bindings report.
//! - [`bundles`]: the Bundle rules beyond its invariants (fullUrl, references inside it).
//! - [`values`]: a single value: primitive syntax, the calendar, fixed/pattern/length/range.
//! - [`markup`]: the narrative's XHTML rules and what the XML parser found wrong.
//! - [`conformance`]: profiles and IG releases, slicing, extensions, bindings, references.
//! - [`codes`]: what a code system says of one code or identifier (syntax, membership, display).
//! - [`service`]: the CLINS service rules checked by hand (report units, flags).
//! - [`documents`]: the rules of CLINS documents and their receipt (DESIGN §6–§7).
//! - [`interactions`]: refusals of REST interactions (access, conflicts, transactions).
//! - [`patch`]: conditional update and PATCH (criteria outcomes, failed patch operations).
//! - [`questionnaire`]: a QuestionnaireResponse against its Questionnaire.
//! - [`terminology`]: refusals of the terminology operations (`$expand`, `$lookup`, …).
//!
//! Invariant texts written by an IG are not translated: they reach the client as the IG wrote
//! them (JP-CLINS writes them in Japanese) through `details`, whatever the language.

pub mod bundles;
pub mod codes;
pub mod conformance;
pub mod documents;
pub mod interactions;
pub mod language;
pub mod markup;
pub mod patch;
pub mod questionnaire;
pub mod requests;
pub mod service;
pub mod terminology;
pub mod validation;
pub mod values;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests;

pub use language::Language;
pub use requests::RequestMessage;
pub use service::ServiceMessage;
pub use validation::ValidationMessage;

pub use bundles::BundleMessage;
pub use conformance::ConformanceMessage;
pub use documents::DocumentMessage;
pub use interactions::InteractionMessage;
pub use patch::PatchMessage;
pub use questionnaire::QuestionnaireMessage;
pub use terminology::TerminologyMessage;
pub use values::ValueMessage;

/// Picks the template of `$lang`; only the chosen one is formatted.
macro_rules! say {
    ($lang:expr, $en:expr, $ja:expr $(,)?) => {
        match $lang {
            $crate::messages::Language::English => $en.to_string(),
            $crate::messages::Language::Japanese => $ja.to_string(),
        }
    };
}
pub(crate) use say;

/// One catalogued message with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request(RequestMessage),
    Validation(ValidationMessage),
    Service(ServiceMessage),
    Value(ValueMessage),
    Conformance(ConformanceMessage),
    Document(DocumentMessage),
    Interaction(InteractionMessage),
    Patch(PatchMessage),
    Bundle(BundleMessage),
    Questionnaire(QuestionnaireMessage),
    Terminology(TerminologyMessage),
}

impl Message {
    pub fn render(&self, language: Language) -> String {
        match self {
            Message::Request(m) => m.render(language),
            Message::Validation(m) => m.render(language),
            Message::Service(m) => m.render(language),
            Message::Value(m) => m.render(language),
            Message::Conformance(m) => m.render(language),
            Message::Document(m) => m.render(language),
            Message::Interaction(m) => m.render(language),
            Message::Patch(m) => m.render(language),
            Message::Bundle(m) => m.render(language),
            Message::Questionnaire(m) => m.render(language),
            Message::Terminology(m) => m.render(language),
        }
    }
}

/// Each family of messages converts into a [`Message`] (and, in `fhir::outcome`, into an
/// issue's text).
macro_rules! family {
    ($($ty:ident => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for Message {
            fn from(m: $ty) -> Self {
                Message::$variant(m)
            }
        }
    )*};
}

family!(
    RequestMessage => Request,
    ValidationMessage => Validation,
    ServiceMessage => Service,
    ValueMessage => Value,
    ConformanceMessage => Conformance,
    DocumentMessage => Document,
    InteractionMessage => Interaction,
    PatchMessage => Patch,
    BundleMessage => Bundle,
    QuestionnaireMessage => Questionnaire,
    TerminologyMessage => Terminology,
);
