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
/// `_source`, Observation's component and combo concepts, RiskAssessment.
pub const CURRENT: i64 = 2;

/// Parameters of the existing kinds (token, string, date, reference) that version 2 added,
/// as `(type, param)`; `*` for every type, or every parameter of a type new in version 2.
pub const ADDED_IN_2: &[(&str, &str)] = &[
    ("*", "_tag"),
    ("*", "_security"),
    ("Observation", "component-value-concept"),
    ("Observation", "combo-value-concept"),
    ("RiskAssessment", "*"),
];

/// Whether a token, string, date or reference row of `param` on `resource_type` is one the
/// reindex rewrites. Rows of the number, quantity, uri and pair tables always are: those
/// tables are new in version 2.
pub fn rewritten(resource_type: &str, param: &str) -> bool {
    ADDED_IN_2
        .iter()
        .any(|(t, p)| (*t == "*" || *t == resource_type) && (*p == "*" || *p == param))
}

/// The rows the reindex writes for one stored resource: the rows of its added parameters.
pub fn added_rows(resource_type: &str, resource: &Value, offset: FixedOffset) -> IndexRows {
    let mut rows = super::extract(resource_type, resource, offset);
    let keep = |param: &str| rewritten(resource_type, param);
    rows.tokens.retain(|t| keep(t.param));
    rows.strings.retain(|s| keep(s.param));
    rows.dates.retain(|d| keep(d.param));
    rows.references.retain(|r| keep(r.param));
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
        let rows = added_rows("Observation", &obs, jst());
        let tokens: Vec<&str> = rows.tokens.iter().map(|t| t.param).collect();
        assert_eq!(tokens, ["_tag"]);
        assert!(rows.references.is_empty());
        assert_eq!(rows.uris.len(), 1);
        let quantities: Vec<&str> = rows.quantities.iter().map(|q| q.param).collect();
        assert_eq!(
            quantities,
            [
                "value-quantity",
                "combo-value-quantity",
                "code-value-quantity",
                "combo-code-value-quantity"
            ]
        );
        let risk = json!({"resourceType": "RiskAssessment", "subject": {"reference": "Patient/p1"},
            "prediction": [{"probabilityDecimal": 0.25}]});
        let rows = added_rows("RiskAssessment", &risk, jst());
        assert_eq!(rows.references.len(), 2, "subject and patient");
        assert_eq!(rows.numbers.len(), 1);
        assert!(!rewritten("Bundle", "patient"));
    }
}
