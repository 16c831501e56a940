//! The message catalogue: the words of OperationOutcome issues, in English and Japanese.
//! Each kind of message is one enum variant whose two templates sit side by side, so a
//! translator reads them together and a new message cannot be added in one language only.
//! Issues keep the [`Message`] they were written from and are rendered in the language the
//! client asked for when the answer is written; logs and audit records stay in English.
//!
//! - [`requests`]: HTTP-level refusals (404, 405, 413, parse errors, storage…).
//! - [`validation`]: what the profile walk and bindings report.
//! - [`service`]: the CLINS service rules checked by hand (report units, flags).
//!
//! Invariant texts written by an IG are not translated: they reach the client as the IG wrote
//! them (JP-CLINS writes them in Japanese) through `details`, whatever the language.

pub mod language;
pub mod requests;
pub mod service;
pub mod validation;

pub use language::Language;
pub use requests::RequestMessage;
pub use service::ServiceMessage;
pub use validation::ValidationMessage;

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
}

impl Message {
    pub fn render(&self, language: Language) -> String {
        match self {
            Message::Request(m) => m.render(language),
            Message::Validation(m) => m.render(language),
            Message::Service(m) => m.render(language),
        }
    }
}

impl From<RequestMessage> for Message {
    fn from(m: RequestMessage) -> Self {
        Message::Request(m)
    }
}

impl From<ValidationMessage> for Message {
    fn from(m: ValidationMessage) -> Self {
        Message::Validation(m)
    }
}

impl From<ServiceMessage> for Message {
    fn from(m: ServiceMessage) -> Self {
        Message::Service(m)
    }
}
