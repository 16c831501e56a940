//! The stored Questionnaires that QuestionnaireResponses about to be validated name (on a
//! write, on `$validate`, and in a CLINS submission's entries), when neither the request nor a
//! loaded package holds them.
//!
//! They are looked up in the caller's reading scope (DESIGN §9): a Questionnaire the caller may
//! not read is as unknown as one that does not exist, so the verdict (and its "not found"
//! warning) says nothing about another institution's forms. The Questionnaires found are
//! audited as read.
//!
//! One indexed search (`Questionnaire?url=a,b`) finds every version of the canonicals asked
//! for; per canonical the newest match is kept (`url|version` matches that version only).

use serde_json::Value;

use super::Services;
use crate::audit::Interaction;
use crate::error::Error;
use crate::search::params::ParamKind;
use crate::search::{Clause, SearchQuery, Target, TotalMode, UriMatch, Value as SearchValue};
use crate::store::StoredResource;
use crate::validation::questionnaire::unresolved_questionnaires;

/// Questionnaires read per page while looking (several versions of one form may be stored).
const PAGE: usize = 100;

/// The stored Questionnaires, visible to the caller, that the responses in `resource` name
/// and that the validator cannot find elsewhere; newest first.
pub(crate) async fn stored_for(svc: &Services, resource: &Value) -> Result<Vec<Value>, Error> {
    let wanted = unresolved_questionnaires(resource, svc.validator.packages());
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let session = svc.session();
    let urls = url_clause(&wanted);
    let found = svc
        .store
        .read(move |conn| {
            let mut scoped = session.scoped(conn)?;
            let mut best: Vec<Option<(StoredResource, Value)>> = vec![None; wanted.len()];
            let mut after = None;
            loop {
                let mut query = SearchQuery::new("Questionnaire", PAGE, 0);
                query.clauses.push(urls.clone());
                query.total = TotalMode::None;
                query.after = after;
                let page = scoped.search(&query)?;
                let full = page.resources.len() >= PAGE;
                after = page.keys.last().copied();
                for stored in page.resources {
                    keep_if_wanted(&wanted, stored, &mut best);
                }
                if !full || after.is_none() {
                    break;
                }
            }
            Ok::<_, Error>(best.into_iter().flatten().collect::<Vec<_>>())
        })
        .await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    svc.audit_read(
        Interaction::Read,
        Some("Questionnaire"),
        None,
        found.iter().map(|(s, _)| s),
    )
    .await?;
    let mut found = found;
    found.sort_by_key(|(s, _)| std::cmp::Reverse(s.last_updated));
    Ok(found.into_iter().map(|(_, json)| json).collect())
}

/// `url=` any of the canonicals in `wanted`, without their `|version` (the versions are told
/// apart by [`keep_if_wanted`]).
fn url_clause(wanted: &[String]) -> Clause {
    let mut values: Vec<SearchValue> = Vec::new();
    for canonical in wanted {
        let url = canonical
            .split_once('|')
            .map_or(canonical.as_str(), |(u, _)| u);
        let value = SearchValue::Uri {
            uri: url.to_string(),
            mode: UriMatch::Exact,
        };
        if !values.contains(&value) {
            values.push(value);
        }
    }
    Clause {
        param: "url",
        target: Target::Index(ParamKind::Uri),
        negate: false,
        values,
    }
}

/// Keeps `stored` in the slot of each canonical it answers (`url`, or `url|version`) when it
/// is newer than what the slot holds.
fn keep_if_wanted(
    wanted: &[String],
    stored: StoredResource,
    best: &mut [Option<(StoredResource, Value)>],
) {
    let Some(json) = stored
        .content
        .as_deref()
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
    else {
        return;
    };
    let field = |k: &str| json.get(k).and_then(Value::as_str);
    let Some(url) = field("url") else {
        return;
    };
    for (slot, canonical) in best.iter_mut().zip(wanted) {
        let answers = match canonical.split_once('|') {
            Some((u, v)) => u == url && field("version") == Some(v),
            None => canonical == url,
        };
        let newer = slot
            .as_ref()
            .is_none_or(|(s, _)| s.last_updated < stored.last_updated);
        if answers && newer {
            *slot = Some((stored.clone(), json.clone()));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn stored(id: &str, last_updated: i64, json: Value) -> StoredResource {
        StoredResource {
            res_type: "Questionnaire".into(),
            id: id.into(),
            version: 1,
            last_updated,
            deleted: false,
            content: Some(json.to_string()),
            patient: None,
        }
    }

    #[test]
    fn the_newest_match_of_each_canonical_is_kept() {
        let wanted = vec!["http://x/q".to_string(), "http://x/q|1".to_string()];
        let mut best = vec![None, None];
        let q = |v: &str| serde_json::json!({"resourceType": "Questionnaire", "url": "http://x/q", "version": v});
        keep_if_wanted(&wanted, stored("a", 10, q("1")), &mut best);
        keep_if_wanted(&wanted, stored("b", 20, q("2")), &mut best);
        keep_if_wanted(&wanted, stored("c", 5, q("1")), &mut best);
        let other = serde_json::json!({"resourceType": "Questionnaire", "url": "http://x/other"});
        keep_if_wanted(&wanted, stored("d", 30, other), &mut best);
        let ids: Vec<&str> = best
            .iter()
            .map(|b| b.as_ref().unwrap().0.id.as_str())
            .collect();
        assert_eq!(ids, ["b", "a"]);
    }

    #[test]
    fn one_url_clause_covers_every_version_asked_for() {
        let wanted = vec![
            "http://x/q".to_string(),
            "http://x/q|1".to_string(),
            "http://x/r|2".to_string(),
        ];
        let clause = url_clause(&wanted);
        let uris: Vec<&str> = clause
            .values
            .iter()
            .map(|v| match v {
                SearchValue::Uri { uri, .. } => uri.as_str(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(uris, ["http://x/q", "http://x/r"]);
    }
}
