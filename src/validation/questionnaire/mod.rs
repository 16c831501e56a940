//! QuestionnaireResponse against its Questionnaire: each item's linkId exists at its nesting,
//! answers have the item's type and come from its options, required items are answered, items
//! that `enableWhen` disables are not, and groups and display items carry no answers. The
//! Questionnaire is found contained, in the same Bundle, in a loaded package or stored on the
//! server for the caller (see `Sources`); the decisions and severities follow the reference
//! validator's (in-progress responses only warn of what is missing).

mod answers;
mod enable_when;
mod items;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;

use std::sync::Arc;

use serde_json::Value;

use super::binding_check::BindingCheck;
use crate::fhir::{Issue, IssueType};
use crate::messages::QuestionnaireMessage as M;
use crate::packages::PackageSet;

/// A Questionnaire found for a response: inside the request or stored on the server (for the
/// caller), or a package's.
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

/// Where a response's Questionnaire is looked for, in this order: the response's `contained`,
/// the request (`root`: a Bundle's entries), the loaded packages, and last the Questionnaires
/// the server holds that the caller may read (`stored`; the server looks them up before
/// validating, in the caller's scope, so one the caller may not read is as unknown as one
/// that does not exist).
pub(crate) struct Sources<'a> {
    pub root: &'a Value,
    pub packages: &'a PackageSet,
    pub stored: &'a [Value],
}

/// Checks the QuestionnaireResponse `qr` (at `path`) against the Questionnaire it names.
pub(crate) fn check_response(
    qr: &Value,
    sources: &Sources<'_>,
    bindings: &dyn BindingCheck,
    path: &str,
    out: &mut Vec<Issue>,
) {
    let Some(canonical) = qr.get("questionnaire").and_then(Value::as_str) else {
        out.push(Issue::information(M::NoQuestionnaire).at(path));
        return;
    };
    let Some(found) = locate(canonical, qr, sources) else {
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

/// The canonicals of the Questionnaires that the QuestionnaireResponses in `resource` (itself,
/// a Bundle's entries at any depth, contained resources) name and that neither the request nor `packages`
/// holds: what the server looks up among its stored Questionnaires before validating.
pub fn unresolved_questionnaires(resource: &Value, packages: &PackageSet) -> Vec<String> {
    let mut out = Vec::new();
    collect_unresolved(resource, resource, packages, &mut out);
    out
}

fn collect_unresolved(res: &Value, root: &Value, packages: &PackageSet, out: &mut Vec<String>) {
    // The walk checks a contained response too.
    for contained in res
        .get("contained")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_unresolved(contained, root, packages, out);
    }
    match res.get("resourceType").and_then(Value::as_str) {
        Some("QuestionnaireResponse") => {
            let sources = Sources {
                root,
                packages,
                stored: &[],
            };
            if let Some(canonical) = res.get("questionnaire").and_then(Value::as_str)
                && !canonical.starts_with('#')
                && locate(canonical, res, &sources).is_none()
                && !out.iter().any(|c| c == canonical)
            {
                out.push(canonical.to_string());
            }
        }
        Some("Bundle") => {
            for entry in res
                .get("entry")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(r) = entry.get("resource") {
                    // A Bundle inside resolves among its own entries, as the walk does.
                    let within = if r.get("resourceType").and_then(Value::as_str) == Some("Bundle")
                    {
                        r
                    } else {
                        root
                    };
                    collect_unresolved(r, within, packages, out);
                }
            }
        }
        _ => {}
    }
}

/// Whether `r` is the Questionnaire `url` (and `version`, when one is asked for).
fn is_version_of(r: &Value, url: &str, version: Option<&str>) -> bool {
    let field = |k: &str| r.get(k).and_then(Value::as_str);
    r.get("resourceType").and_then(Value::as_str) == Some("Questionnaire")
        && field("url") == Some(url)
        && version.is_none_or(|v| field("version") == Some(v))
}

/// `#id` among the response's contained resources, a Bundle entry by `url` (and `|version`)
/// or `fullUrl`, a loaded package's Questionnaire, else a stored one.
fn locate<'a>(canonical: &str, qr: &'a Value, sources: &Sources<'a>) -> Option<Located<'a>> {
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
    let root = sources.root;
    let in_bundle = (root.get("resourceType").and_then(Value::as_str) == Some("Bundle"))
        .then(|| root.get("entry").and_then(Value::as_array))
        .flatten()
        .into_iter()
        .flatten()
        .find_map(|e| {
            let r = e.get("resource").filter(|r| is_questionnaire(r))?;
            let by_full_url = e.get("fullUrl").and_then(Value::as_str) == Some(canonical);
            (is_version_of(r, url, version) || by_full_url).then_some(r)
        });
    if let Some(r) = in_bundle {
        return Some(Located::Here(r));
    }
    if let Some(r) = sources.packages.resolve_in("Questionnaire", canonical) {
        return Some(Located::Package(Arc::clone(r.json())));
    }
    // The server passes them newest first: an unversioned canonical takes the latest.
    sources
        .stored
        .iter()
        .find(|r| is_version_of(r, url, version))
        .map(Located::Here)
}
