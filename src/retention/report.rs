//! What a purge run did, as `kyoyu purge` prints it and the run's record keeps it: per rule the
//! rows examined, removed and kept, the report units that went with their last member, and on
//! request every removed resource. Instants are ISO 8601; a dry run's report is the real run's
//! prediction, so both are built the same way.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

/// Per rule (retention class): what the run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RuleCounts {
    pub examined: u64,
    pub purged: u64,
    pub kept_by_latest: u64,
    /// Past their time but tagged LTS: kept, and their expiry cleared so they are counted once.
    pub kept_by_lts: u64,
}

/// One removed resource and the rule that removed it (`report-unit` for the Bundle of a unit
/// that lost its last member).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Purged {
    #[serde(rename = "type")]
    pub res_type: String,
    pub id: String,
    pub rule: String,
}

/// The rule under which a report unit's Bundle goes with its last member.
pub const REPORT_UNIT_RULE: &str = crate::clins::classes::RetentionClass::ReportUnit.as_str();

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub run_id: i64,
    #[serde(serialize_with = "instant")]
    pub as_of: i64,
    pub dry_run: bool,
    /// Every resource removed (or, in a dry run, that would be): the rules' and the units'.
    pub purged: u64,
    pub rules: BTreeMap<String, RuleCounts>,
    /// Report-unit Bundles removed because their last member went.
    pub units_removed: u64,
    /// With `--list`: every removed resource, sorted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<Vec<Purged>>,
}

fn instant<S: Serializer>(micros: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::fhir::instant::to_fhir_instant(*micros))
}

impl PurgeReport {
    pub fn purged(&self) -> u64 {
        self.purged
    }

    pub fn examined(&self) -> u64 {
        self.rules.values().map(|c| c.examined).sum()
    }

    /// Counts a removal (`rule` already counted in `rules` for walked rows) and lists it when
    /// a list is kept.
    pub(super) fn removed(&mut self, res_type: &str, id: &str, rule: &str) {
        self.purged += 1;
        if rule == REPORT_UNIT_RULE {
            self.units_removed += 1;
        }
        if let Some(list) = &mut self.list {
            list.push(Purged {
                res_type: res_type.to_string(),
                id: id.to_string(),
                rule: rule.to_string(),
            });
        }
    }

    /// The report without its list, as the run's record keeps it (the list is in the audit).
    pub fn counts(&self) -> PurgeReport {
        PurgeReport {
            list: None,
            ..self.clone()
        }
    }

    /// Per rule, how many went, for the AuditEvent's description.
    pub(super) fn summary(removed: &[Purged]) -> String {
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for p in removed {
            *by_rule.entry(p.rule.as_str()).or_default() += 1;
        }
        by_rule
            .iter()
            .map(|(rule, n)| format!("{rule} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_json_report_names_instants_in_iso_8601_and_lists_on_request() {
        let mut r = PurgeReport {
            as_of: 1_798_761_600_000_000,
            list: Some(Vec::new()),
            ..PurgeReport::default()
        };
        r.removed("Condition", "c1", "condition");
        r.removed("Bundle", "b1", REPORT_UNIT_RULE);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["as_of"], "2027-01-01T00:00:00.000000Z");
        assert_eq!(json["purged"], 2);
        assert_eq!(json["units_removed"], 1);
        assert_eq!(
            json["list"][1],
            serde_json::json!({"type": "Bundle", "id": "b1", "rule": "report-unit"})
        );
        assert!(
            serde_json::to_value(r.counts())
                .unwrap()
                .get("list")
                .is_none()
        );
        assert_eq!(
            PurgeReport::summary(r.list.as_deref().unwrap()),
            "condition 1, report-unit 1"
        );
    }
}
