//! QuestionnaireResponse against its Questionnaire: each item's linkId exists at its nesting,
//! answers have the item's type and come from its options, required items are answered, items
//! that `enableWhen` disables are not, and groups and display items carry no answers. The
//! Questionnaire is found contained, in the same Bundle or in a loaded package; the decisions and
//! severities follow the reference validator's (in-progress responses only warn of what is
//! missing).

mod answers;
mod enable_when;
mod items;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;

use std::sync::Arc;

use serde_json::Value;

use super::binding_check::BindingCheck;
use super::packages::PackageSet;
use crate::fhir::{Issue, IssueType};
use crate::messages::QuestionnaireMessage as M;

/// A Questionnaire found for a response: inside the request, or a package's.
enum Located<'a> {
    Here(&'a Value),
    Package(Arc<Value>),
}

impl Located<'_> {
    fn value(&self) -> &Value {
        match self {
            Located::Here(v) => v,
            Located::Package(v) => v,
        }
    }
}

/// Checks the QuestionnaireResponse `qr` (at `path`) against the Questionnaire it names; `root`
/// is the whole request (a Bundle's entries may hold the Questionnaire).
pub(crate) fn check_response(
    qr: &Value,
    root: &Value,
    packages: &PackageSet,
    bindings: &dyn BindingCheck,
    path: &str,
    out: &mut Vec<Issue>,
) {
    let Some(canonical) = qr.get("questionnaire").and_then(Value::as_str) else {
        out.push(Issue::information(M::NoQuestionnaire).at(path));
        return;
    };
    let Some(found) = locate(canonical, qr, root, packages) else {
        let text = M::NotFound {
            canonical: canonical.to_string(),
        };
        // The reference validator only hints for example.org questionnaires, which are never
        // published.
        let issue = if canonical.contains("://example.org") {
            Issue::information(text)
        } else {
            Issue::warning(IssueType::NotFound, text)
        };
        out.push(issue.at(format!("{path}.questionnaire")));
        return;
    };
    let in_progress = qr.get("status").and_then(Value::as_str) == Some("in-progress");
    let questionnaire = found.value();
    let mut checker = items::Checker::new(questionnaire, bindings, in_progress);
    checker.items(items::children(questionnaire), qr, path, out);
}

/// `#id` among the response's contained resources, a Bundle entry by `url` (and `|version`)
/// or `fullUrl`, else a loaded package's Questionnaire.
fn locate<'a>(
    canonical: &str,
    qr: &'a Value,
    root: &'a Value,
    packages: &PackageSet,
) -> Option<Located<'a>> {
    let is_questionnaire =
        |r: &Value| r.get("resourceType").and_then(Value::as_str) == Some("Questionnaire");
    if let Some(id) = canonical.strip_prefix('#') {
        return qr
            .get("contained")?
            .as_array()?
            .iter()
            .find(|c| is_questionnaire(c) && c.get("id").and_then(Value::as_str) == Some(id))
            .map(Located::Here);
    }
    let (url, version) = match canonical.split_once('|') {
        Some((u, v)) => (u, Some(v)),
        None => (canonical, None),
    };
    let in_bundle = (root.get("resourceType").and_then(Value::as_str) == Some("Bundle"))
        .then(|| root.get("entry").and_then(Value::as_array))
        .flatten()
        .into_iter()
        .flatten()
        .find_map(|e| {
            let r = e.get("resource").filter(|r| is_questionnaire(r))?;
            let field = |k: &str| r.get(k).and_then(Value::as_str);
            let by_url =
                field("url") == Some(url) && version.is_none_or(|v| field("version") == Some(v));
            let by_full_url = e.get("fullUrl").and_then(Value::as_str) == Some(canonical);
            (by_url || by_full_url).then_some(r)
        });
    if let Some(r) = in_bundle {
        return Some(Located::Here(r));
    }
    packages
        .resolve_in("Questionnaire", canonical)
        .map(|r| Located::Package(Arc::clone(&r.json)))
}
