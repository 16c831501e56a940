//! One answer against its Questionnaire item: the value's type for the item type, and for
//! choice items membership in `answerOption` or `answerValueSet`.

use serde_json::Value;

use super::super::binding_check::{CodeCheck, CodedValue, Membership};
use super::items::{Checker, text};
use crate::fhir::{Issue, IssueType};
use crate::messages::QuestionnaireMessage as M;

/// The `value[x]` of an answer, an option or an enableWhen (`answer[x]`): its type suffix and
/// value.
pub(super) fn choice<'a>(holder: &'a Value, prefix: &str) -> Option<(&'a str, &'a Value)> {
    holder.as_object()?.iter().find_map(|(k, v)| {
        let suffix = k.strip_prefix(prefix)?;
        suffix
            .starts_with(|c: char| c.is_ascii_uppercase())
            .then_some((suffix, v))
    })
}

/// The value types an answer to an item of `kind` may have; `None` for a kind that constrains
/// nothing (`question`, or one R4 does not define).
fn allowed(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "boolean" => &["Boolean"],
        "decimal" => &["Decimal"],
        "integer" => &["Integer"],
        "date" => &["Date"],
        "dateTime" => &["DateTime"],
        "time" => &["Time"],
        "string" | "text" => &["String"],
        "url" => &["Uri"],
        "attachment" => &["Attachment"],
        "reference" => &["Reference"],
        "quantity" => &["Quantity"],
        "choice" | "open-choice" => &["Coding", "Date", "Time", "Integer", "String"],
        _ => return None,
    })
}

/// An answer outside the item's options: an open choice only warns of it.
fn unlisted(open: bool, text: M, at: &str) -> Issue {
    if open {
        Issue::warning(IssueType::CodeInvalid, text).at(at)
    } else {
        Issue::error(IssueType::CodeInvalid, text).at(at)
    }
}

/// Same system and code (a Coding without a code is no option).
pub(super) fn same_coding(a: &Value, b: &Value) -> bool {
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    field(a, "code").is_some()
        && field(a, "code") == field(b, "code")
        && field(a, "system") == field(b, "system")
}

impl Checker<'_, '_> {
    pub(super) fn answer(&mut self, def: &Value, answer: &Value, at: &str, out: &mut Vec<Issue>) {
        let link_id = text(def, "linkId").unwrap_or_default();
        let kind = text(def, "type").unwrap_or_default();
        let (Some((ty, value)), Some(types)) = (choice(answer, "value"), allowed(kind)) else {
            return;
        };
        let value_at = format!("{at}.value{ty}");
        if !types.contains(&ty) {
            let names: Vec<String> = types.iter().map(|t| format!("value{t}")).collect();
            let text = M::WrongAnswerType {
                link_id: link_id.to_string(),
                kind: kind.to_string(),
                allowed: names.join(" or "),
                found: ty.to_string(),
            };
            out.push(Issue::error(IssueType::Structure, text).at(value_at));
            return;
        }
        if matches!(kind, "choice" | "open-choice") {
            self.option(def, ty, value, kind == "open-choice", &value_at, out);
        }
    }

    /// A choice answer among the item's options. An open choice takes any string (its
    /// "other" answer), and a Coding outside the options is only a warning there.
    fn option(
        &self,
        def: &Value,
        ty: &str,
        value: &Value,
        open: bool,
        at: &str,
        out: &mut Vec<Issue>,
    ) {
        let link_id = text(def, "linkId").unwrap_or_default();
        let options: Vec<&Value> = def
            .get("answerOption")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|o| choice(o, "value").filter(|(t, _)| *t == ty).map(|(_, v)| v))
            .collect();
        let has_options = def.get("answerOption").is_some();
        if open && ty == "String" {
            return;
        }
        if ty == "Coding" && !has_options {
            return self.value_set_option(def, value, open, at, out);
        }
        if options.is_empty() {
            if !open {
                let text = M::NoOptionsOfType {
                    link_id: link_id.to_string(),
                    ty: ty.to_string(),
                };
                out.push(Issue::error(IssueType::Structure, text).at(at));
            }
            return;
        }
        let found = options.iter().any(|o| match ty {
            "Coding" => same_coding(value, o),
            _ => *o == value,
        });
        if found {
            return;
        }
        let shown = match ty {
            "Coding" => format!(
                "{}#{}",
                text(value, "system").unwrap_or_default(),
                text(value, "code").unwrap_or_default()
            ),
            _ => value.to_string(),
        };
        let text = M::NotAnOption {
            value: shown,
            link_id: link_id.to_string(),
        };
        out.push(unlisted(open, text, at));
    }

    /// `answerValueSet` `#id`: the ValueSet the Questionnaire contains with that id (a
    /// reference to nothing leaves the answer unchecked, with the warning saying why).
    fn contained_value_set(&self, id: &str, coded: CodedValue<'_>) -> CodeCheck {
        let found = self
            .questionnaire
            .get("contained")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|c| text(c, "resourceType") == Some("ValueSet") && text(c, "id") == Some(id));
        match found {
            Some(vs) => self.bindings.check_resource(vs, coded),
            None => CodeCheck {
                membership: Membership::Unknown(format!(
                    "the questionnaire contains no ValueSet with id {id}"
                )),
            },
        }
    }

    /// A Coding answer against the item's `answerValueSet`, through the terminology.
    fn value_set_option(
        &self,
        def: &Value,
        value: &Value,
        open: bool,
        at: &str,
        out: &mut Vec<Issue>,
    ) {
        let link_id = text(def, "linkId").unwrap_or_default();
        let Some(vs) = text(def, "answerValueSet") else {
            let text = M::NoOptionsAtAll {
                link_id: link_id.to_string(),
            };
            out.push(Issue::information(text).at(at));
            return;
        };
        let Some(code) = text(value, "code") else {
            // A display alone is an open choice's free answer; a closed one needs a code.
            if !open {
                let text = M::NoCode {
                    link_id: link_id.to_string(),
                    value_set: vs.to_string(),
                };
                out.push(Issue::error(IssueType::CodeInvalid, text).at(at));
            }
            return;
        };
        let coded = CodedValue {
            system: text(value, "system"),
            version: text(value, "version"),
            code,
            display: text(value, "display"),
        };
        let system = coded.system.map(|s| format!("{s}#")).unwrap_or_default();
        let check = match vs.strip_prefix('#') {
            Some(id) => self.contained_value_set(id, coded),
            None => self.bindings.check(vs, coded),
        };
        match check.membership {
            Membership::Member => {}
            Membership::NotMember => {
                let text = M::NotInValueSet {
                    code: format!("{system}{code}"),
                    value_set: vs.to_string(),
                    link_id: link_id.to_string(),
                };
                out.push(unlisted(open, text, at));
            }
            Membership::Unknown(why) => {
                let text = M::ValueSetUnchecked {
                    code: format!("{system}{code}"),
                    value_set: vs.to_string(),
                    why,
                };
                out.push(Issue::warning(IssueType::NotSupported, text).at(at));
            }
        }
    }
}
