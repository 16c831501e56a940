//! Audit records (DESIGN §9, FHIR AuditEvent): who did what to which resources, with what
//! outcome, and whether as an emergency. Stored apart from clinical data, in the transaction of
//! the change they record; rendered as R4 AuditEvent resources for operators and for patients
//! reading their own access history. Never clinical content, never credentials.

use serde_json::{Value, json};

use crate::access::caller::{Caller, Emergency};
use crate::fhir::instant::to_fhir_instant;

/// `AuditEvent.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
    Execute,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Create => "C",
            Action::Read => "R",
            Action::Update => "U",
            Action::Delete => "D",
            Action::Execute => "E",
        }
    }
}

/// `AuditEvent.outcome`: 0 success, 4 refused or invalid (the caller's fault), 8 failed.
pub fn outcome_of_status(status: u16) -> &'static str {
    match status {
        0..=399 => "0",
        400..=499 => "4",
        _ => "8",
    }
}

/// The id of an event recorded at `recorded` (µs): a UUIDv7 carrying that instant, so ids sort
/// in time order. The trail is stored clustered on them: new events land at the right edge of
/// one B-tree, and a time range is a key range. The microseconds within the millisecond go in
/// the 12 bits after the timestamp (RFC 9562's sub-millisecond precision), so two events of
/// one millisecond sort by time too, not at random.
pub fn event_id(recorded: i64) -> String {
    let micros = u64::try_from(recorded).unwrap_or(0);
    let sub_ms = (micros % 1000) as u16;
    let mut tail = [0u8; 10];
    tail.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[6..16]);
    // The builder keeps the low nibble of tail[0] and all of tail[1] as rand_a.
    tail[0] = (sub_ms >> 8) as u8;
    tail[1] = (sub_ms & 0xff) as u8;
    uuid::Builder::from_unix_timestamp_millis(micros / 1000, &tail)
        .into_uuid()
        .to_string()
}

/// The smallest event id an event recorded at or after `since` (µs) can have.
pub fn first_event_id_since(since: i64) -> String {
    let millis = u64::try_from(since.div_euclid(1000)).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &[0; 10])
        .into_uuid()
        .to_string()
}

/// One audit event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: String,
    pub recorded: i64,
    pub action: &'static str,
    /// The FHIR interaction or operation (`read`, `search-type`, `create`, `$receipt`…).
    pub interaction: String,
    pub outcome: &'static str,
    /// For failures: the status and issue count, never the message (it may quote content).
    pub detail: Option<String>,
    pub role: String,
    pub agent_name: String,
    pub institution: Option<String>,
    pub emergency: Option<Emergency>,
    /// The type (and id) the request addressed.
    pub res_type: Option<String>,
    pub res_id: Option<String>,
    /// Every resource read or written.
    pub entities: Vec<Touch>,
}

/// A resource an event touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    pub res_type: String,
    pub res_id: String,
    /// Its patient, when the request had the row at hand; `None`: looked up when stored.
    pub patient: Option<Option<String>>,
}

impl Touch {
    /// A resource known by name only.
    pub fn named(res_type: impl Into<String>, res_id: impl Into<String>) -> Self {
        Touch {
            res_type: res_type.into(),
            res_id: res_id.into(),
            patient: None,
        }
    }
}

impl AuditRecord {
    pub fn new(
        caller: &Caller,
        id: String,
        recorded: i64,
        action: Action,
        interaction: impl Into<String>,
    ) -> Self {
        AuditRecord {
            id,
            recorded,
            action: action.code(),
            interaction: interaction.into(),
            outcome: "0",
            detail: None,
            role: caller
                .principal
                .role()
                .map_or("development", |r| r.as_str())
                .to_string(),
            agent_name: caller.principal.name().to_string(),
            institution: caller.principal.institution().map(str::to_string),
            emergency: caller.emergency.clone(),
            res_type: None,
            res_id: None,
            entities: Vec::new(),
        }
    }

    pub fn target(mut self, res_type: Option<&str>, res_id: Option<&str>) -> Self {
        self.res_type = res_type.map(str::to_string);
        self.res_id = res_id.map(str::to_string);
        self
    }

    pub fn failed(mut self, status: u16, issues: usize) -> Self {
        self.outcome = outcome_of_status(status);
        self.detail = Some(format!("HTTP {status}, {issues} issue(s)"));
        self
    }
}

/// A stored entity of an event, with the patient it concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntity {
    pub res_type: String,
    pub res_id: String,
    pub patient_key: Option<String>,
}

const INSTITUTION_SYSTEM: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";

/// The R4 AuditEvent of a record, in full (an operator's view).
pub fn to_resource(record: &AuditRecord, entities: &[AuditEntity]) -> Value {
    let mut patients: Vec<&str> = Vec::new();
    for p in entities.iter().filter_map(|e| e.patient_key.as_deref()) {
        if !patients.contains(&p) {
            patients.push(p);
        }
    }
    let shown: Vec<&AuditEntity> = entities.iter().collect();
    render(record, &shown, &patients, false, true)
}

/// What a patient sees of an event in their trail (DESIGN §9): the agent by role only (no
/// name, no institution number), the entities `readable` says they may read, and every other
/// one as a single "another record" (no type, id or count), their own Patient records (`own`)
/// and no one else's.
pub fn to_patient_resource(
    record: &AuditRecord,
    entities: &[AuditEntity],
    readable: impl Fn(&AuditEntity) -> bool,
    own: &[String],
) -> Value {
    let (shown, withheld): (Vec<&AuditEntity>, Vec<&AuditEntity>) =
        entities.iter().partition(|e| readable(e));
    let mut patients: Vec<&str> = Vec::new();
    for p in entities.iter().filter_map(|e| e.patient_key.as_deref()) {
        if own.iter().any(|o| o == p) && !patients.contains(&p) {
            patients.push(p);
        }
    }
    render(record, &shown, &patients, !withheld.is_empty(), false)
}

fn render(
    record: &AuditRecord,
    entities: &[&AuditEntity],
    patients: &[&str],
    withheld: bool,
    named: bool,
) -> Value {
    let agent_type = match record.role.as_str() {
        "system" => "dataprocessor",
        "patient" => "datasubject",
        _ => "humanuser",
    };
    let mut agent = json!({
        "type": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/extra-security-role-type",
            "code": agent_type,
        }]},
        "role": [{"text": record.role}],
        "requestor": true,
    });
    if named {
        agent["who"] = json!({"display": record.agent_name});
        if let Some(i) = &record.institution {
            agent["who"]["identifier"] = json!({"system": INSTITUTION_SYSTEM, "value": i});
        }
    }
    let mut event = json!({
        "resourceType": "AuditEvent",
        "id": record.id,
        "meta": {"lastUpdated": to_fhir_instant(record.recorded)},
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
                 "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction",
                     "code": record.interaction}],
        "action": record.action,
        "recorded": to_fhir_instant(record.recorded),
        "outcome": record.outcome,
        "agent": [agent],
        "source": {"observer": {"display": "kyoyu"},
                   "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                             "code": "4", "display": "Application Server"}]},
    });
    if let Some(d) = &record.detail {
        event["outcomeDesc"] = json!(d);
    }
    if let Some(e) = &record.emergency {
        // Break-the-glass (救急時医療情報閲覧): the purpose, the reason given and the second
        // factor declared.
        event["purposeOfEvent"] = json!([{
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                        "code": "ETREAT", "display": "Emergency Treatment"}],
            "text": e.reason,
        }]);
        event["agent"][0]["policy"] = json!([format!("urn:kyoyu:emergency:2fa:{}", e.method)]);
    }
    let mut out: Vec<Value> = Vec::new();
    if let (Some(t), None) = (&record.res_type, &record.res_id) {
        out.push(
            json!({"type": {"system": "http://hl7.org/fhir/resource-types", "code": t},
                        "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role",
                                 "code": "24", "display": "Query"}}),
        );
    }
    for e in entities {
        out.push(
            json!({"what": {"reference": format!("{}/{}", e.res_type, e.res_id)},
                        "type": {"system": "http://hl7.org/fhir/resource-types",
                                 "code": e.res_type}}),
        );
    }
    if withheld {
        out.push(json!({"description": "another record"}));
    }
    for p in patients {
        out.push(json!({"what": {"reference": format!("Patient/{p}")},
                        "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role",
                                 "code": "1", "display": "Patient"}}));
    }
    if !out.is_empty() {
        event["entity"] = Value::Array(out);
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_sort_by_their_instant_and_bound_time_ranges() {
        let t = 1_790_000_000_123_456;
        // t - 1 and t + 1 share t's millisecond: they must sort by their microseconds.
        let ids: Vec<String> = [t - 5_000, t - 1_000, t - 1, t, t + 1, t + 1_000]
            .iter()
            .map(|&at| event_id(at))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        let floor = first_event_id_since(t);
        assert!(ids[2..].iter().all(|id| *id >= floor));
        assert!(ids[1] < floor && ids[0] < floor);
        for _ in 0..100 {
            assert!(event_id(t) < event_id(t + 1), "within one millisecond");
        }
        assert_ne!(event_id(t), event_id(t), "same instant, distinct ids");
    }
}
