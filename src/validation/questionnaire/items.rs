//! The item tree of a response walked beside the Questionnaire's: linkIds, order, repeats,
//! required items, enablement, and what groups and display items may hold.

use serde_json::Value;

use super::super::binding_check::BindingCheck;
use crate::fhir::{Issue, IssueType};
use crate::messages::QuestionnaireMessage as M;

/// The `item` list of a Questionnaire, item, response or answer (empty when absent).
pub(super) fn children(holder: &Value) -> &[Value] {
    holder
        .get("item")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

pub(super) fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn answers(item: &Value) -> &[Value] {
    item.get("answer")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The Questionnaire item with `link_id` anywhere in `items`.
fn find_anywhere<'q>(items: &'q [Value], link_id: &str) -> Option<&'q Value> {
    items.iter().find_map(|q| {
        if text(q, "linkId") == Some(link_id) {
            Some(q)
        } else {
            find_anywhere(children(q), link_id)
        }
    })
}

pub(super) struct Checker<'q, 'r> {
    pub questionnaire: &'q Value,
    pub bindings: &'q dyn BindingCheck,
    /// An in-progress response may still lack required answers: a warning, not an error.
    in_progress: bool,
    /// The response, items and answers from the top down to the item list being checked:
    /// `enableWhen` finds its question in the nearest one that holds it.
    pub scopes: Vec<&'r Value>,
}

impl<'q, 'r> Checker<'q, 'r> {
    pub fn new(
        questionnaire: &'q Value,
        bindings: &'q dyn BindingCheck,
        in_progress: bool,
    ) -> Self {
        Checker {
            questionnaire,
            bindings,
            in_progress,
            scopes: Vec::new(),
        }
    }

    /// The `item` list of `holder` (at `path`) against the Questionnaire items `defs` of the
    /// same level.
    pub fn items(
        &mut self,
        defs: &'q [Value],
        holder: &'r Value,
        path: &str,
        out: &mut Vec<Issue>,
    ) {
        self.scopes.push(holder);
        let mut by_def: Vec<Vec<(usize, &'r Value)>> = vec![Vec::new(); defs.len()];
        let mut last = 0;
        for (i, item) in children(holder).iter().enumerate() {
            let at = format!("{path}.item[{i}]");
            let Some(link_id) = text(item, "linkId") else {
                let text = M::NoLinkId;
                out.push(Issue::error(IssueType::Required, text).at(at));
                continue;
            };
            match defs.iter().position(|d| text(d, "linkId") == Some(link_id)) {
                Some(index) => {
                    if index < last {
                        let text = M::OutOfOrder {
                            link_id: link_id.to_string(),
                        };
                        out.push(Issue::error(IssueType::Structure, text).at(&at));
                    }
                    last = index;
                    // An item with nothing but its linkId counts as absent (required, enableWhen).
                    if item.get("answer").is_some() || item.get("item").is_some() {
                        by_def[index].push((i, item));
                    }
                }
                None => match find_anywhere(children(self.questionnaire), link_id) {
                    Some(def) => {
                        let text = M::WrongPlace {
                            link_id: link_id.to_string(),
                        };
                        out.push(Issue::error(IssueType::Structure, text).at(&at));
                        self.item(def, item, &at, out);
                    }
                    None => {
                        let text = M::UnknownLinkId {
                            link_id: link_id.to_string(),
                        };
                        out.push(Issue::error(IssueType::NotFound, text).at(at));
                    }
                },
            }
        }
        for (def, found) in defs.iter().zip(by_def) {
            self.answered(def, &found, path, out);
        }
        self.scopes.pop();
    }

    /// The response items `found` of one Questionnaire item `def` at this level.
    fn answered(
        &mut self,
        def: &'q Value,
        found: &[(usize, &'r Value)],
        path: &str,
        out: &mut Vec<Issue>,
    ) {
        let link_id = text(def, "linkId").unwrap_or_default();
        let enabled = self.enabled(def);
        let undecided = || {
            let text = M::EnableStateUnknown {
                link_id: link_id.to_string(),
            };
            Issue::information(text)
        };
        if found.is_empty() {
            if flag(def, "required") {
                match enabled {
                    Some(true) => out.push(self.missing(link_id, path)),
                    Some(false) => {}
                    None => out.push(undecided().at(path)),
                }
            }
            return;
        }
        for (i, _) in found {
            let at = format!("{path}.item[{i}]");
            match enabled {
                Some(true) => {}
                Some(false) => {
                    let text = M::AnsweredWhileDisabled {
                        link_id: link_id.to_string(),
                    };
                    out.push(Issue::error(IssueType::Invalid, text).at(at));
                }
                None => out.push(undecided().at(at)),
            }
        }
        if let [_, (second, _), ..] = found
            && !flag(def, "repeats")
        {
            let text = M::RepeatedItem {
                link_id: link_id.to_string(),
                count: found.len(),
            };
            out.push(Issue::error(IssueType::Invalid, text).at(format!("{path}.item[{second}]")));
        }
        for (i, item) in found {
            self.item(def, item, &format!("{path}.item[{i}]"), out);
        }
    }

    /// A required item without an answer: an error once the response claims to be done.
    fn missing(&self, link_id: &str, at: &str) -> Issue {
        let text = M::RequiredMissing {
            link_id: link_id.to_string(),
        };
        if self.in_progress {
            Issue::warning(IssueType::Required, text).at(at)
        } else {
            Issue::error(IssueType::Required, text).at(at)
        }
    }

    /// One response item against its Questionnaire item.
    fn item(&mut self, def: &'q Value, item: &'r Value, at: &str, out: &mut Vec<Issue>) {
        let link_id = text(def, "linkId").unwrap_or_default();
        let kind = text(def, "type").unwrap_or_default();
        if let Some(t) = text(item, "text")
            && text(def, "text") != Some(t)
        {
            let text = M::TextDiffers {
                link_id: link_id.to_string(),
            };
            out.push(Issue::error(IssueType::Invalid, text).at(format!("{at}.text")));
        }
        let given = answers(item);
        if given.is_empty() && kind != "group" && flag(def, "required") {
            out.push(self.missing(link_id, at));
        }
        if given.len() > 1 && !flag(def, "repeats") {
            let text = M::RepeatedAnswer {
                link_id: link_id.to_string(),
                count: given.len(),
            };
            out.push(Issue::error(IssueType::Invalid, text).at(format!("{at}.answer[1]")));
        }
        for (j, answer) in given.iter().enumerate() {
            let answer_at = format!("{at}.answer[{j}]");
            match kind {
                "group" => {
                    let text = M::GroupAnswered {
                        link_id: link_id.to_string(),
                    };
                    out.push(Issue::error(IssueType::Structure, text).at(answer_at));
                    continue;
                }
                "display" => {
                    let text = M::DisplayAnswered {
                        link_id: link_id.to_string(),
                    };
                    out.push(Issue::error(IssueType::Structure, text).at(answer_at));
                    continue;
                }
                _ => self.answer(def, answer, &answer_at, out),
            }
            self.items(children(def), answer, &answer_at, out);
        }
        match kind {
            "group" => self.items(children(def), item, at, out),
            _ if children(item).is_empty() => {}
            "display" => {
                let text = M::DisplayWithItems {
                    link_id: link_id.to_string(),
                };
                out.push(Issue::error(IssueType::Structure, text).at(at));
            }
            _ => {
                let text = M::ItemsOutsideAnswer {
                    link_id: link_id.to_string(),
                };
                out.push(Issue::error(IssueType::Structure, text).at(at));
            }
        }
    }
}
