//! The AuditEvent resources of stored events (R4 AuditEvent): in full for an operator, and
//! as a patient may see them in their own access history (DESIGN §9). Rendered from the row as
//! stored, so an event reads back exactly as it was recorded.

use serde_json::{Value, json};

use crate::fhir::instant::to_fhir_instant;
use crate::store::{AuditEntity, AuditRow};

const INSTITUTION_SYSTEM: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";

/// The R4 AuditEvent of a record, in full (an operator's view).
pub fn to_resource(record: &AuditRow, entities: &[AuditEntity]) -> Value {
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
    record: &AuditRow,
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
    record: &AuditRow,
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
    use crate::audit::{Action, AuditRecord, Interaction, Outcome};

    #[test]
    fn an_event_shows_the_codes_its_record_was_stored_with() {
        let record = AuditRecord {
            id: "e".into(),
            recorded: 0,
            action: Action::Read,
            interaction: Interaction::HistoryType,
            outcome: Outcome::MinorFailure,
            detail: None,
            role: "institution".into(),
            agent_name: "a".into(),
            institution: None,
            emergency: None,
            res_type: Some("Observation".into()),
            res_id: None,
            entities: Vec::new(),
        };
        let event = to_resource(&AuditRow::from(record), &[]);
        assert_eq!(event["action"], "R");
        assert_eq!(event["subtype"][0]["code"], "history-type");
        assert_eq!(event["outcome"], "4");
    }
}
