//! The closed vocabularies of an audit record: what kind of action it was (`AuditEvent.action`),
//! which interaction or operation (`AuditEvent.subtype`) and how it ended (`AuditEvent.outcome`).
//! Each code is stored as text in the trail, so `as_str` must keep rendering exactly the text
//! stored so far: the tests pin every one.

use std::fmt;

/// A stored text that names no code of its vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit {vocabulary} code {text:?}")]
pub struct UnknownCode {
    pub vocabulary: &'static str,
    pub text: String,
}

/// Declares a closed vocabulary: the enum, its stored texts, and their parser.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every code, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The text stored in the trail and shown in the AuditEvent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownCode;

            fn from_str(text: &str) -> Result<Self, UnknownCode> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownCode { vocabulary: $what, text: text.to_string() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// `AuditEvent.action` (<http://hl7.org/fhir/audit-event-action>).
    Action, "action" {
        Create => "C",
        Read => "R",
        Update => "U",
        Delete => "D",
        Execute => "E",
    }
}

vocabulary! {
    /// `AuditEvent.outcome` (<http://hl7.org/fhir/audit-event-outcome>).
    Outcome, "outcome" {
        Success => "0",
        /// Refused or invalid: the caller's fault (a 4xx).
        MinorFailure => "4",
        /// Failed on the server's side (a 5xx).
        SeriousFailure => "8",
    }
}

impl Outcome {
    /// The outcome of a request answered with HTTP `status`.
    pub fn of_status(status: u16) -> Self {
        match status {
            0..=399 => Outcome::Success,
            400..=499 => Outcome::MinorFailure,
            _ => Outcome::SeriousFailure,
        }
    }
}

vocabulary! {
    /// What a request did, as the spec names it (`AuditEvent.subtype`): a RESTful interaction
    /// (<http://hl7.org/fhir/restful-interaction>), an operation (`$…`), or a CLINS service
    /// action.
    Interaction, "interaction" {
        Read => "read",
        Vread => "vread",
        Update => "update",
        Patch => "patch",
        Delete => "delete",
        HistoryInstance => "history-instance",
        HistoryType => "history-type",
        HistorySystem => "history-system",
        Create => "create",
        SearchType => "search-type",
        SearchSystem => "search-system",
        Transaction => "transaction",
        Batch => "batch",
        /// A request whose route names no interaction (an unknown path or method).
        Operation => "operation",
        Summary => "$summary",
        Everything => "$everything",
        Receipt => "$receipt",
        DocumentStatus => "$document-status",
        Validate => "$validate",
        Export => "$export",
        /// 6情報 report unit registered (or re-sent).
        SubmitReportUnit => "submit-report-unit",
        DeleteReportUnit => "delete-report-unit",
        SubmitDocument => "submit-document",
        CancelDocument => "cancel-document",
        /// A purge batch of the retention purger.
        Purge => "purge",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Each code's stored text, pinned: existing trails hold these.
    fn pinned<T>(stored: &[(T, &str)])
    where
        T: Copy + PartialEq + fmt::Debug + fmt::Display + std::str::FromStr<Err = UnknownCode>,
    {
        for (code, text) in stored {
            assert_eq!(code.to_string(), *text);
            assert_eq!(text.parse::<T>().unwrap(), *code, "{text}");
        }
    }

    #[test]
    fn every_action_renders_and_parses_its_stored_text() {
        use Action::*;
        let stored = [
            (Create, "C"),
            (Read, "R"),
            (Update, "U"),
            (Delete, "D"),
            (Execute, "E"),
        ];
        assert_eq!(stored.len(), Action::ALL.len());
        pinned(&stored);
    }

    #[test]
    fn every_outcome_renders_and_parses_its_stored_text() {
        use Outcome::*;
        let stored = [(Success, "0"), (MinorFailure, "4"), (SeriousFailure, "8")];
        assert_eq!(stored.len(), Outcome::ALL.len());
        pinned(&stored);
        let of = |s| Outcome::of_status(s).as_str();
        assert_eq!(
            [of(200), of(304), of(404), of(422), of(500), of(503)],
            ["0", "0", "4", "4", "8", "8"]
        );
    }

    #[test]
    fn every_interaction_renders_and_parses_its_stored_text() {
        use Interaction::*;
        let stored = [
            (Read, "read"),
            (Vread, "vread"),
            (Update, "update"),
            (Patch, "patch"),
            (Delete, "delete"),
            (HistoryInstance, "history-instance"),
            (HistoryType, "history-type"),
            (HistorySystem, "history-system"),
            (Create, "create"),
            (SearchType, "search-type"),
            (SearchSystem, "search-system"),
            (Transaction, "transaction"),
            (Batch, "batch"),
            (Operation, "operation"),
            (Summary, "$summary"),
            (Everything, "$everything"),
            (Receipt, "$receipt"),
            (DocumentStatus, "$document-status"),
            (Validate, "$validate"),
            (Export, "$export"),
            (SubmitReportUnit, "submit-report-unit"),
            (DeleteReportUnit, "delete-report-unit"),
            (SubmitDocument, "submit-document"),
            (CancelDocument, "cancel-document"),
            (Purge, "purge"),
        ];
        assert_eq!(stored.len(), Interaction::ALL.len());
        pinned(&stored);
    }

    #[test]
    fn a_text_of_no_code_is_refused_by_name() {
        let e = "search".parse::<Interaction>().unwrap_err();
        assert_eq!(e.to_string(), "unknown audit interaction code \"search\"");
        assert!("".parse::<Action>().is_err());
        assert!("12".parse::<Outcome>().is_err());
    }
}
