//! A Coding checked against its own code system, whatever it is bound to: the syntax of the
//! Japanese systems, membership when the system is loaded (imported or from a package), and
//! the display. A Japanese display for a code whose system has only another language's (the
//! JP examples write 外来 for v3-ActCode AMB, "ambulatory") is information, not a warning: it
//! is a translation, which R4 allows in `display` and no system here could confirm.

use super::{Caches, ValueSetEngine, canonical_system};
use crate::fhir::IssueSeverity;
use crate::messages::codes::CodeFinding;
use crate::terminology::codesystem::japanese;
use crate::terminology::syntax::{self, Severity};
use crate::validation::binding_check::{CodedPart, CodedValue, Finding};

impl Finding {
    pub(crate) fn from_syntax(f: syntax::Finding, part: CodedPart) -> Self {
        Finding {
            severity: match f.severity {
                Severity::Error => IssueSeverity::Error,
                Severity::Warning => IssueSeverity::Warning,
            },
            part,
            message: CodeFinding::Syntax(f.message),
        }
    }
}

/// The display a system gives for a code, and whether the system writes Japanese for it or
/// anywhere (then a Japanese display that differs is another name, not a translation).
struct Expected {
    display: String,
    japanese_known: bool,
}

impl ValueSetEngine {
    pub(super) fn coding_findings(&self, c: &Caches, value: CodedValue<'_>) -> Vec<Finding> {
        let Some(system) = value.system.map(canonical_system) else {
            return Vec::new();
        };
        let mut out: Vec<Finding> = syntax::check_code(system, value.code)
            .into_iter()
            .map(|f| Finding::from_syntax(f, CodedPart::Code))
            .collect();
        if out.iter().any(Finding::is_error) {
            return out;
        }
        // A Coding naming an edition that is not loaded is checked against the newest one, but
        // a code missing there may have been dropped since: a warning, never an error.
        let exact = self.code_system_in(c, system, value.version);
        let other_edition = exact.is_none() && value.version.is_some();
        let loaded = exact.or_else(|| {
            value
                .version
                .and_then(|_| self.code_system_in(c, system, None))
        });
        if let (true, Some(cs), Some(asked)) = (other_edition, &loaded, value.version) {
            out.push(Finding {
                severity: IssueSeverity::Information,
                part: CodedPart::Code,
                message: CodeFinding::OtherEdition {
                    asked: asked.to_string(),
                    system: system.to_string(),
                    code: value.code.to_string(),
                    checked: cs.version.clone(),
                },
            });
        }
        let expected = match loaded {
            Some(cs) => match cs.find(value.code) {
                Some(concept) => concept.display.clone().and_then(|d| {
                    let given = value.display.map(str::trim);
                    let matches = given.is_none_or(|g| {
                        d.trim() == g || concept.designations.iter().any(|x| x.trim() == g)
                    });
                    (!matches).then(|| Expected {
                        display: d,
                        japanese_known: cs.writes_japanese
                            || concept.designations.iter().any(|x| japanese(x)),
                    })
                }),
                None => {
                    if let Some(mut f) =
                        unknown_code(&cs.url, cs.version.as_deref(), &cs, value.code)
                    {
                        if other_edition {
                            f.severity = IssueSeverity::Warning;
                        }
                        out.push(f);
                    }
                    return out;
                }
            },
            // The base code sets are HL7's, with English displays only.
            None => self.base.and_then(|b| {
                let d = b.display(system, value.code)?;
                let given = value.display?.trim();
                (d.trim() != given).then(|| Expected {
                    display: d.to_string(),
                    japanese_known: false,
                })
            }),
        };
        if let (Some(expected), Some(given)) = (expected, value.display) {
            out.push(display_finding(value.code, given, &expected));
        }
        out
    }
}

/// A code the loaded system does not have: an error when the system is loaded whole, a
/// warning when only part of it is (a fragment, or a terminology too big for a package).
fn unknown_code(
    url: &str,
    version: Option<&str>,
    cs: &super::CodeSystemIndex,
    code: &str,
) -> Option<Finding> {
    let (code, system, version) = (
        code.to_string(),
        url.to_string(),
        version.map(str::to_string),
    );
    match cs.not_enumerable() {
        None => Some(Finding {
            severity: IssueSeverity::Error,
            part: CodedPart::Code,
            message: CodeFinding::NotInCodeSystem {
                code,
                system,
                version,
            },
        }),
        Some(_) if cs.content == "fragment" => Some(Finding {
            severity: IssueSeverity::Warning,
            part: CodedPart::Code,
            message: CodeFinding::NotInFragment {
                code,
                system,
                version,
            },
        }),
        // `example` or `not-present` definitions say nothing about which codes exist.
        Some(_) => None,
    }
}

fn display_finding(code: &str, given: &str, expected: &Expected) -> Finding {
    let (expected, japanese_known) = (expected.display.as_str(), expected.japanese_known);
    let (given, code, expected_text) = (given.to_string(), code.to_string(), expected.to_string());
    if japanese(&given) && !japanese(expected) && !japanese_known {
        return Finding {
            severity: IssueSeverity::Information,
            part: CodedPart::Display,
            message: CodeFinding::DisplayOtherLanguage {
                given,
                code,
                expected: expected_text,
            },
        };
    }
    let hints = [given.as_str(), expected]
        .into_iter()
        .filter_map(syntax::lookalike_hint)
        .collect();
    let message = if fold_lookalikes(&given) == fold_lookalikes(expected) {
        CodeFinding::DisplayLookalike {
            given,
            code,
            expected: expected_text,
            hints,
        }
    } else {
        CodeFinding::DisplayDiffers {
            given,
            code,
            expected: expected_text,
            hints,
        }
    };
    Finding {
        severity: IssueSeverity::Warning,
        part: CodedPart::Display,
        message,
    }
}

/// Compatibility and radical look-alikes mapped to the unified ideographs they stand for, with
/// white space trimmed.
fn fold_lookalikes(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.trim().nfkc().collect()
}
