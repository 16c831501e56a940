//! Which index rows a resource stored by an older version of the server lacks. The index rows
//! of a resource are written with it; when a version of the server adds parameters, the
//! resources already stored have none of their rows until they are reindexed. The store keeps
//! the extraction version its rows come from (`search_index_version`), and the reindex
//! (`Store::reindex`, at start-up or `kyoyu reindex`) adds what each version added.
//!
//! Only the rows of added parameters are rewritten: the rows a write computes rather than
//! extracts (a submitted Bundle's `patient`, `recipient`…) cannot be recomputed from the
//! stored resource alone and must stay as they are.

use chrono::FixedOffset;
use serde_json::Value;

use super::IndexRows;

/// The extraction version of this build. 1: token, string, date and reference parameters;
/// 2: number, quantity, uri and composite parameters, `_tag`, `_security`, `_profile`,
/// `_source`, Observation's component and combo concepts, RiskAssessment; 3: List (for
/// `_list` and `List?item=`); 4: Questionnaire (for `Questionnaire?url=`, which the validation
/// of QuestionnaireResponses against stored forms searches).
pub const CURRENT: i64 = 4;

/// Parameters of the existing kinds (token, string, date, reference) that version 2 added,
/// as `(type, param)`; `*` for every type, or every parameter of a type new in version 2.
pub const ADDED_IN_2: &[(&str, &str)] = &[
    ("*", "_tag"),
    ("*", "_security"),
    ("Observation", "component-value-concept"),
    ("Observation", "combo-value-concept"),
    ("RiskAssessment", "*"),
];

/// What version 3 added, as [`ADDED_IN_2`]: every parameter of List. List has no parameter of
/// the kinds whose tables are new in version 2, and its meta rows were already written.
pub const ADDED_IN_3: &[(&str, &str)] = &[("List", "*")];

/// What version 4 added, as [`ADDED_IN_2`]: every parameter of Questionnaire. Unlike List, it
/// has parameters of the kinds whose tables are new in version 2 (`url`, `definition`,
/// `context-quantity`); their rows are rewritten too, but not those of the `meta` parameters,
/// which version 2 wrote for every type.
pub const ADDED_IN_4: &[(&str, &str)] = &[("Questionnaire", "*")];

/// What one version after 1 added.
struct Addition {
    version: i64,
    /// Parameters of the existing kinds, as in [`ADDED_IN_2`].
    params: &'static [(&'static str, &'static str)],
    /// Whether the number, quantity, uri and pair tables are new in it.
    new_tables: bool,
}

const ADDED: &[Addition] = &[
    Addition {
        version: 2,
        params: ADDED_IN_2,
        new_tables: true,
    },
    Addition {
        version: 3,
        params: ADDED_IN_3,
        new_tables: false,
    },
    Addition {
        version: 4,
        params: ADDED_IN_4,
        new_tables: false,
    },
];

/// The additions a store indexed at `since` lacks.
fn added_since(since: i64) -> impl Iterator<Item = &'static Addition> {
    ADDED.iter().filter(move |a| a.version > since)
}

/// Whether a token, string, date or reference row of `param` on `resource_type` is one the
/// reindex of a store indexed at version `since` rewrites.
pub fn rewritten(since: i64, resource_type: &str, param: &str) -> bool {
    added_since(since).any(|a| {
        a.params
            .iter()
            .any(|(t, p)| (*t == "*" || *t == resource_type) && (*p == "*" || *p == param))
    })
}

/// Whether the reindex of a store indexed at `since` rewrites every row of the number,
/// quantity, uri and pair tables: it does when those tables are newer than the store's rows.
pub fn new_tables(since: i64) -> bool {
    added_since(since).any(|a| a.new_tables)
}

/// Whether a number, quantity, uri or pair row of `param` on `resource_type` is one the
/// reindex of a store indexed at `since` rewrites: every row when those tables are new since,
/// else the rows of the type's own parameters added since (the `meta` ones, `_profile` and
/// `_source`, are there from version 2 on).
pub fn rewritten_in_new_tables(since: i64, resource_type: &str, param: &str) -> bool {
    new_tables(since)
        || (rewritten(since, resource_type, param) && super::params::meta_param(param).is_none())
}

/// The resource types whose rows the reindex of a store indexed at `since` rewrites; `None`
/// for every type. Resources of other types need not even be read.
pub fn types_since(since: i64) -> Option<Vec<&'static str>> {
    let mut types = Vec::new();
    for a in added_since(since) {
        if a.new_tables {
            return None;
        }
        for (t, _) in a.params {
            if *t == "*" {
                return None;
            }
            if !types.contains(t) {
                types.push(*t);
            }
        }
    }
    Some(types)
}

/// The rows the reindex of a store indexed at `since` writes for one stored resource: the
/// rows of the parameters added since.
pub fn added_rows(
    since: i64,
    resource_type: &str,
    resource: &Value,
    offset: FixedOffset,
) -> IndexRows {
    let mut rows = super::extract(resource_type, resource, offset);
    let keep = |param: &str| rewritten(since, resource_type, param);
    rows.tokens.retain(|t| keep(t.param));
    rows.strings.retain(|s| keep(s.param));
    rows.dates.retain(|d| keep(d.param));
    rows.references.retain(|r| keep(r.param));
    let keep = |param: &str| rewritten_in_new_tables(since, resource_type, param);
    rows.numbers.retain(|n| keep(n.param));
    rows.quantities.retain(|q| keep(q.param));
    rows.uris.retain(|u| keep(u.param));
    rows.token_pairs.retain(|p| keep(p.param));
    rows
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jst() -> FixedOffset {
        FixedOffset::east_opt(9 * 3600).unwrap()
    }

    #[test]
    fn only_rows_of_added_parameters_are_rewritten() {
        let obs = json!({
            "resourceType": "Observation",
            "meta": {"tag": [{"system": "s", "code": "t"}], "profile": ["http://p"]},
            "code": {"coding": [{"code": "c"}]},
            "subject": {"reference": "Patient/p1"},
            "valueQuantity": {"value": 1.5, "system": "http://unitsofmeasure.org", "code": "mg"}
        });
        let rows = added_rows(1, "Observation", &obs, jst());
        let tokens: Vec<&str> = rows.tokens.iter().map(|t| t.param).collect();
        assert_eq!(tokens, ["_tag"]);
        assert!(rows.references.is_empty());
        assert_eq!(rows.uris.len(), 1);
        let quantities: Vec<&str> = rows.quantities.iter().map(|q| q.param).collect();
        // code-value-quantity is searched in the rows of `code` and `value-quantity`.
        assert_eq!(quantities, ["value-quantity"]);
        let risk = json!({"resourceType": "RiskAssessment", "subject": {"reference": "Patient/p1"},
            "prediction": [{"probabilityDecimal": 0.25}]});
        let rows = added_rows(1, "RiskAssessment", &risk, jst());
        assert_eq!(rows.references.len(), 2, "subject and patient");
        assert_eq!(rows.numbers.len(), 1);
        assert!(!rewritten(1, "Bundle", "patient"));
    }

    #[test]
    fn a_store_of_version_2_gains_only_the_rows_of_list() {
        let list = json!({"resourceType": "List", "status": "current", "mode": "working",
            "meta": {"profile": ["http://p"]},
            "subject": {"reference": "Patient/p1"},
            "entry": [{"item": {"reference": "Observation/o1"}}]});
        let rows = added_rows(2, "List", &list, jst());
        let mut references: Vec<&str> = rows.references.iter().map(|r| r.param).collect();
        references.sort_unstable();
        assert_eq!(references, ["item", "patient", "subject"]);
        assert_eq!(rows.tokens.len(), 1, "status");
        assert!(rows.uris.is_empty(), "_profile was written by version 2");
        // (and those of Questionnaire, added in version 4)
        assert_eq!(types_since(2), Some(vec!["List", "Questionnaire"]));
        assert_eq!(types_since(1), None);
        assert!(!rewritten(2, "Observation", "_tag"));
        assert!(!rewritten(3, "List", "item"));
        assert!(!new_tables(2));
        let obs = json!({"resourceType": "Observation", "code": {"coding": [{"code": "c"}]},
            "valueQuantity": {"value": 1.5}});
        assert!(
            added_rows(2, "Observation", &obs, jst())
                .quantities
                .is_empty()
        );
        // From version 1, List's rows come with those of version 2.
        assert_eq!(added_rows(1, "List", &list, jst()).uris.len(), 1);
    }

    #[test]
    fn a_store_of_version_3_gains_only_the_rows_of_questionnaire() {
        let q = json!({"resourceType": "Questionnaire", "url": "http://x/q", "version": "1",
            "status": "active", "title": "Smoking", "meta": {"profile": ["http://p"]},
            "useContext": [{"code": {"code": "age"}, "valueQuantity": {"value": 18}}],
            "item": [{"linkId": "1", "type": "boolean", "definition": "http://x/d"}]});
        let rows = added_rows(3, "Questionnaire", &q, jst());
        let mut uris: Vec<&str> = rows.uris.iter().map(|u| u.param).collect();
        uris.sort_unstable();
        assert_eq!(
            uris,
            ["definition", "url"],
            "not _profile, written by version 2"
        );
        assert_eq!(rows.quantities.len(), 1, "context-quantity");
        let mut tokens: Vec<&str> = rows.tokens.iter().map(|t| t.param).collect();
        tokens.sort_unstable();
        assert_eq!(tokens, ["context-type", "status", "version"]);
        assert_eq!(rows.strings.len(), 1, "title");
        assert_eq!(types_since(3), Some(vec!["Questionnaire"]));
        assert!(!rewritten_in_new_tables(3, "Observation", "value-quantity"));
        assert!(!rewritten_in_new_tables(3, "Questionnaire", "_profile"));
        assert!(rewritten_in_new_tables(1, "Questionnaire", "_profile"));
        assert!(!rewritten(4, "Questionnaire", "url"));
        // A List gains nothing from version 3 on.
        let list = json!({"resourceType": "List", "status": "current", "mode": "working"});
        assert!(added_rows(3, "List", &list, jst()).tokens.is_empty());
    }
}
