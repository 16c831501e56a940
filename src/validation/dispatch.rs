//! Which IG context judges a profile an instance declares in `meta.profile`. With a version:
//! the context whose definition has exactly that version, else the IG release of that number,
//! else the newest release of a partial version (`|1.10` → 1.10.0); a version no context has is
//! judged by the choice without a version, and said so. Without a version: the deployment's
//! default release of the IG when it defines the profile, else the newest context that defines
//! it (the service's rule: the latest at receipt).

use std::cmp::Ordering;

use crate::packages::{IgContext, Resource, compare_versions};

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
        // The operator's packages (no release) rank above any shipped release.
        (x, y) => x.is_none().cmp(&y.is_none()),
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::packages::{IgRelease, PackageSet, package_from_files};

    const URL: &str = "http://example.org/StructureDefinition/P";

    /// A context of one package defining `URL` at `sd_version`, as IG release `release`.
    fn context(release: Option<&str>, sd_version: &str) -> IgContext {
        let manifest = json!({"name": "example.ig", "version": release.unwrap_or("0.1.0")});
        let sd = json!({"resourceType": "StructureDefinition", "url": URL,
            "version": sd_version, "type": "Patient"});
        let files = vec![
            (
                "package.json".to_string(),
                manifest.to_string().into_bytes(),
            ),
            (
                "StructureDefinition-P.json".to_string(),
                sd.to_string().into_bytes(),
            ),
        ];
        let mut set = PackageSet::new();
        set.add(package_from_files(Path::new("test"), files).unwrap());
        IgContext {
            release: release.map(|v| IgRelease {
                ig: "example".into(),
                version: v.into(),
                label: format!("Example {v}"),
            }),
            packages: Arc::new(set),
        }
    }

    /// Release 1.5.2 whose profiles say "1" (as JP-CLINS 1.5.2's do), and release 1.10.0.
    fn two_releases() -> Vec<IgContext> {
        vec![
            context(Some("1.5.2"), "1"),
            context(Some("1.10.0"), "1.10.0"),
        ]
    }

    fn pick(contexts: &[IgContext], defaults: &[IgDefault], asked: Option<&str>) -> Choice {
        choose(contexts, defaults, URL, asked).unwrap()
    }

    #[test]
    fn a_version_picks_the_definition_then_the_release_then_the_line() {
        let c = two_releases();
        assert_eq!(pick(&c, &[], Some("1.10.0")).context, 1);
        assert_eq!(
            pick(&c, &[], Some("1.10.0")).target,
            format!("{URL}|1.10.0")
        );
        // The definition's own version.
        assert_eq!(pick(&c, &[], Some("1")).context, 0);
        // No definition says 1.5.2: the release of that number.
        let by_release = pick(&c, &[], Some("1.5.2"));
        assert_eq!((by_release.context, by_release.target.as_str()), (0, URL));
        // A partial version: the newest release of the line.
        assert_eq!(pick(&c, &[], Some("1.10")).context, 1);
        assert!(pick(&c, &[], Some("1.10")).missing.is_none());
    }

    #[test]
    fn no_version_takes_the_deployment_default_else_the_newest() {
        let c = two_releases();
        assert_eq!(pick(&c, &[], None).context, 1);
        let default = [("example".to_string(), "1.5.2".to_string())];
        assert_eq!(pick(&c, &default, None).context, 0);
        // A declared version wins over the default.
        assert_eq!(pick(&c, &default, Some("1.10.0")).context, 1);
        assert_eq!(default_context(&c, &default), 0);
        assert_eq!(default_context(&c, &[]), 1);
    }

    #[test]
    fn a_version_no_context_has_falls_back_and_lists_what_there_is() {
        let c = two_releases();
        let choice = pick(&c, &[], Some("1.7.0"));
        assert_eq!(choice.context, 1);
        assert_eq!(
            choice.missing.unwrap(),
            ["1 (Example 1.5.2)", "1.10.0 (Example 1.10.0)"]
        );
        assert!(choose(&c, &[], "http://example.org/other", None).is_none());
    }

    #[test]
    fn operator_packages_win_a_tie_and_are_the_default_context() {
        let mut c = two_releases();
        c.push(context(None, "1.10.0"));
        assert_eq!(pick(&c, &[], None).context, 2);
        assert_eq!(default_context(&c, &[]), 2);
    }

    #[test]
    fn rule_numbers_are_read_from_the_start_of_invariant_texts() {
        let sd = json!({"snapshot": {"element": [{"constraint": [
            {"key": "a", "human": "R6031 LTS only on infection results"},
            {"key": "b", "human": "R9013O: contained Encounter"}
        ]}]}});
        assert!(carries_rule(&sd, "R6031"));
        assert!(carries_rule(&sd, "R9013O"));
        assert!(!carries_rule(&sd, "R9013"));
        assert!(!carries_rule(&sd, "R603"));
    }

    #[test]
    fn redeclaring_replaces_every_version() {
        let mut v = json!({"meta": {"profile": ["http://x/P|1", "http://x/Q"]},
            "entry": [{"resource": {"meta": {"profile": ["http://x/R"]}}}]});
        redeclare_profiles(&mut v, "1.10.0");
        assert_eq!(
            v["meta"]["profile"],
            json!(["http://x/P|1.10.0", "http://x/Q|1.10.0"])
        );
        assert_eq!(
            v["entry"][0]["resource"]["meta"]["profile"][0],
            "http://x/R|1.10.0"
        );
    }
}
