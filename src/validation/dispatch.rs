//! Which IG context judges a profile an instance declares in `meta.profile`. With a version:
//! the context whose definition has exactly that version, else the IG release of that number,
//! else the newest release of a partial version (`|1.10` → 1.10.0); a version no context has is
//! judged by the choice without a version, and said so. Without a version: the deployment's
//! default release of the IG when it defines the profile, else the newest context that defines
//! it (the service's rule: the latest at receipt).

use std::cmp::Ordering;

use super::packages::{IgContext, Resource, compare_versions};

/// A deployment default: IG name → release (`--ig-version jp-clins=1.5.2`).
pub type IgDefault = (String, String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub context: usize,
    /// The canonical to check against within the context (`url|version` or `url`).
    pub target: String,
    /// The definition's version.
    pub version: String,
    /// The version asked for is in no context: the versions there are, to name in the issue.
    pub missing: Option<Vec<String>>,
}

struct Candidate<'a> {
    context: usize,
    /// The newest definition of the url in that context.
    sd: &'a Resource,
}

/// The context and canonical that judge `url` declared with `asked` (`None`: no `|version`);
/// `None` when no context defines `url`.
pub fn choose(
    contexts: &[IgContext],
    defaults: &[IgDefault],
    url: &str,
    asked: Option<&str>,
) -> Option<Choice> {
    let candidates: Vec<Candidate<'_>> = contexts
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let sd = c.packages.resolve_in("StructureDefinition", url)?;
            Some(Candidate { context: i, sd })
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let unversioned = || {
        let by_default = candidates.iter().find(|c| {
            contexts[c.context].release.as_ref().is_some_and(|r| {
                defaults
                    .iter()
                    .any(|(ig, v)| *ig == r.ig && *v == r.version)
            })
        });
        let chosen = by_default.or_else(|| newest(contexts, candidates.iter()))?;
        Some(found(
            chosen,
            url.to_string(),
            chosen.sd.effective_version(),
        ))
    };
    let Some(asked) = asked else {
        return unversioned();
    };
    let exact: Vec<(&Candidate<'_>, &Resource)> = candidates
        .iter()
        .filter_map(|c| {
            let canonical = format!("{url}|{asked}");
            let sd = contexts[c.context]
                .packages
                .resolve_in("StructureDefinition", &canonical)?;
            Some((c, sd))
        })
        .collect();
    if let Some((c, sd)) = exact.iter().max_by(|a, b| order(contexts, a.0, b.0)) {
        return Some(found(c, format!("{url}|{asked}"), sd.effective_version()));
    }
    let release = |c: &&Candidate<'_>| -> Option<String> {
        contexts[c.context]
            .release
            .as_ref()
            .map(|r| r.version.clone())
    };
    let same_release = candidates
        .iter()
        .filter(|c| release(c).as_deref() == Some(asked));
    if let Some(c) = newest(contexts, same_release) {
        return Some(found(c, url.to_string(), c.sd.effective_version()));
    }
    let in_line = candidates.iter().filter(|c| {
        release(c).is_some_and(|v| is_partial(asked, &v))
            || is_partial(asked, c.sd.effective_version())
    });
    if let Some(c) = newest(contexts, in_line) {
        return Some(found(c, url.to_string(), c.sd.effective_version()));
    }
    let mut fallback = unversioned()?;
    fallback.missing = Some(available(contexts, &candidates, url));
    Some(fallback)
}

/// The context base types and undeclared checks use: the first deployment default, else the
/// packages given by the operator, else the newest IG release (the last of equals).
pub fn default_context(contexts: &[IgContext], defaults: &[IgDefault]) -> usize {
    let by_default = defaults.iter().find_map(|(ig, v)| {
        contexts.iter().position(|c| {
            c.release
                .as_ref()
                .is_some_and(|r| r.ig == *ig && r.version == *v)
        })
    });
    by_default
        .or_else(|| contexts.iter().position(|c| c.release.is_none()))
        .or_else(|| {
            (0..contexts.len()).max_by(|&a, &b| release_order(contexts, a, b).then(a.cmp(&b)))
        })
        .unwrap_or(0)
}

/// `asked` names a release line `version` belongs to: `1.10` of 1.10.0, `1` of 1.5.2.
fn is_partial(asked: &str, version: &str) -> bool {
    version
        .strip_prefix(asked)
        .is_some_and(|rest| rest.starts_with(['.', '-', '+']))
}

fn found(c: &Candidate<'_>, target: String, version: &str) -> Choice {
    Choice {
        context: c.context,
        target,
        version: version.to_string(),
        missing: None,
    }
}

fn newest<'c, 'a>(
    contexts: &[IgContext],
    candidates: impl Iterator<Item = &'c Candidate<'a>>,
) -> Option<&'c Candidate<'a>>
where
    'a: 'c,
{
    candidates.max_by(|a, b| order(contexts, a, b))
}

/// Newer definition first, then newer release; the later context wins a tie, so packages an
/// operator adds (the last context) win over a shipped copy of the same definition.
fn order(contexts: &[IgContext], a: &Candidate<'_>, b: &Candidate<'_>) -> Ordering {
    compare_versions(a.sd.effective_version(), b.sd.effective_version())
        .then_with(|| release_order(contexts, a.context, b.context))
        .then(a.context.cmp(&b.context))
}

fn release_order(contexts: &[IgContext], a: usize, b: usize) -> Ordering {
    let version = |i: usize| contexts[i].release.as_ref().map(|r| r.version.as_str());
    match (version(a), version(b)) {
        (Some(x), Some(y)) => compare_versions(x, y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

/// Every version of the url the contexts hold, with the IG release it comes with.
fn available(contexts: &[IgContext], candidates: &[Candidate<'_>], url: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in candidates {
        let context = &contexts[c.context];
        for sd in context.packages.versions(url) {
            let text = match &context.release {
                Some(r) => format!("{} ({})", sd.effective_version(), r.label),
                None => sd.effective_version().to_string(),
            };
            if !out.contains(&text) {
                out.push(text);
            }
        }
    }
    out
}

/// Whether a StructureDefinition carries the service rule `rule` (`R6031`) as an invariant: the
/// IG writes the rule number at the start of the invariant's text.
pub fn carries_rule(sd: &serde_json::Value, rule: &str) -> bool {
    let elements = sd
        .pointer("/snapshot/element")
        .and_then(serde_json::Value::as_array);
    elements.into_iter().flatten().any(|e| {
        let constraints = e.get("constraint").and_then(serde_json::Value::as_array);
        constraints.into_iter().flatten().any(|c| {
            c.get("human")
                .and_then(serde_json::Value::as_str)
                .and_then(|h| h.trim_start().strip_prefix(rule))
                .is_some_and(|rest| !rest.starts_with(|ch: char| ch.is_ascii_alphanumeric()))
        })
    })
}

/// Every `meta.profile` in `resource` (entries and contained resources too) re-declared with
/// `|version`, replacing any version it had: the same instance, judged by another release.
pub fn redeclare_profiles(resource: &mut serde_json::Value, version: &str) {
    use serde_json::Value;
    match resource {
        Value::Object(object) => {
            if let Some(Value::Array(profiles)) =
                object.get_mut("meta").and_then(|m| m.get_mut("profile"))
            {
                for p in profiles.iter_mut() {
                    if let Some(text) = p.as_str() {
                        let url = text.split('|').next().unwrap_or(text);
                        *p = Value::String(format!("{url}|{version}"));
                    }
                }
            }
            for (key, value) in object.iter_mut() {
                if key != "meta" {
                    redeclare_profiles(value, version);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                redeclare_profiles(item, version);
            }
        }
        _ => {}
    }
}
