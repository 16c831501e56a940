//! When each kind of data may go (DESIGN §1, §8), as an expiry instant computed when the data
//! is written, plus the group a resource is ranked in for "the latest 3": the purger then only
//! looks at rows whose instant has passed.

use chrono::{DateTime, Months, NaiveDate, TimeDelta, Utc};
use serde_json::Value;

use crate::clins::classes::RetentionClass;

/// The periods of the rules; the defaults are the service's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Conditions, infections, allergies, checkups: since registration.
    pub long_months: u32,
    /// Labs: since the effective date.
    pub lab_months: u32,
    /// Prescriptions: since authoredOn.
    pub prescription_days: i64,
    /// Referrals: since registration.
    pub referral_months: u32,
    /// Referrals: since the addressee's receipt.
    pub receipt_days: i64,
    /// How many of the latest results (labs: per item) or occasions (prescriptions) are kept
    /// whatever their age.
    pub latest: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            long_months: 60,
            lab_months: 12,
            prescription_days: 100,
            referral_months: 6,
            receipt_days: 7,
            latest: 3,
        }
    }
}

/// When a resource expires and the group it is ranked in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    pub expires_at: Option<i64>,
    pub group: Option<String>,
}

fn plus_months(micros: i64, months: u32) -> Option<i64> {
    DateTime::<Utc>::from_timestamp_micros(micros)?
        .checked_add_months(Months::new(months))
        .map(|t| t.timestamp_micros())
}

fn plus_days(micros: i64, days: i64) -> Option<i64> {
    micros.checked_add(TimeDelta::days(days).num_microseconds()?)
}

/// Microseconds since the epoch of a FHIR date or dateTime (a date alone counts from its start,
/// in UTC).
pub fn micros_of(text: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_micros());
    }
    let date = text.get(..10).unwrap_or(text);
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
}

/// The item a lab result belongs to: its CLINS item-system coding, else its first coding.
pub fn lab_item(resource: &Value) -> String {
    let codings = resource["code"]["coding"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let pick = codings
        .iter()
        .find(|c| {
            c["system"]
                .as_str()
                .is_some_and(|s| s.ends_with("_CoreLabo_CS"))
        })
        .or_else(|| codings.first());
    pick.map(|c| {
        format!(
            "{}|{}",
            c["system"].as_str().unwrap_or_default(),
            c["code"].as_str().unwrap_or_default()
        )
    })
    .unwrap_or_default()
}

/// A prescribing occasion: the prescribing institution and day.
pub fn occasion(resource: &Value, institution: Option<&str>) -> String {
    let day = resource["authoredOn"]
        .as_str()
        .map(|d| d.get(..10).unwrap_or(d))
        .unwrap_or_default();
    format!("{day}|{}", institution.unwrap_or_default())
}

/// The schedule of a resource of retention class `class` registered at `registered_at`.
pub fn schedule(
    class: RetentionClass,
    resource: &Value,
    registered_at: i64,
    institution: Option<&str>,
    policy: &Policy,
) -> Schedule {
    let at = |field: &str| resource[field].as_str().and_then(micros_of);
    match class {
        // LTS data is never purged, but it crosses the 5-year mark once, when the purger counts
        // it as kept by LTS and clears its expiry.
        RetentionClass::Condition
        | RetentionClass::Infection
        | RetentionClass::AllergyDrug
        | RetentionClass::AllergyOther
        | RetentionClass::Checkup
        | RetentionClass::LongTerm => Schedule {
            expires_at: plus_months(registered_at, policy.long_months),
            group: None,
        },
        RetentionClass::Lab => Schedule {
            expires_at: plus_months(
                at("effectiveDateTime").unwrap_or(registered_at),
                policy.lab_months,
            ),
            group: Some(lab_item(resource)),
        },
        RetentionClass::Prescription => Schedule {
            expires_at: plus_days(
                at("authoredOn").unwrap_or(registered_at),
                policy.prescription_days,
            ),
            group: Some(occasion(resource, institution)),
        },
        RetentionClass::Referral => Schedule {
            expires_at: plus_months(registered_at, policy.referral_months),
            group: None,
        },
        // A report unit's Bundle goes with its last member; the other classes have no rule.
        RetentionClass::ReportUnit
        | RetentionClass::Other
        | RetentionClass::DischargeSummary
        | RetentionClass::PatientSummary => Schedule::default(),
    }
}

/// A referral's expiry once the addressee has received it: the earlier of its registration
/// rule and the receipt rule.
pub fn after_receipt(current: Option<i64>, received_at: i64, policy: &Policy) -> Option<i64> {
    let by_receipt = plus_days(received_at, policy.receipt_days);
    match (current, by_receipt) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(text: &str) -> i64 {
        micros_of(text).unwrap()
    }

    #[test]
    fn each_class_expires_by_its_rule() {
        let p = Policy::default();
        let reg = at("2024-02-29T10:00:00Z");
        let s = |class: &str, r: Value| {
            let class = RetentionClass::parse(class).unwrap();
            schedule(class, &r, reg, Some("1318814790"), &p)
        };
        assert_eq!(
            s("condition", json!({})).expires_at,
            Some(at("2029-02-28T10:00:00Z"))
        );
        assert_eq!(
            s("long-term", json!({})).expires_at,
            Some(at("2029-02-28T10:00:00Z"))
        );
        assert_eq!(s("report-unit", json!({})).expires_at, None);
        let lab = s(
            "lab",
            json!({"effectiveDateTime": "2024-03-01T09:00:00+09:00",
                "code": {"coding": [{"system": "l", "code": "1"},
                    {"system": "x/JP_CLINS_ObsLabResult_CoreLabo_CS", "code": "ALB"}]}}),
        );
        assert_eq!(lab.expires_at, Some(at("2025-03-01T09:00:00+09:00")));
        assert_eq!(
            lab.group.as_deref(),
            Some("x/JP_CLINS_ObsLabResult_CoreLabo_CS|ALB")
        );
        let rx = s("prescription", json!({"authoredOn": "2024-03-01"}));
        assert_eq!(rx.expires_at, Some(at("2024-06-09T00:00:00Z")));
        assert_eq!(rx.group.as_deref(), Some("2024-03-01|1318814790"));
        assert_eq!(
            s("referral", json!({})).expires_at,
            Some(at("2024-08-29T10:00:00Z"))
        );
        let received = at("2024-03-10T00:00:00Z");
        assert_eq!(
            after_receipt(Some(at("2024-08-29T10:00:00Z")), received, &p),
            Some(at("2024-03-17T00:00:00Z"))
        );
    }
}
