//! `GET [base]/Patient/{id}/$summary`: the patient's current 6 information in one collection
//! Bundle — conditions, allergies (drug, then other), infections, labs (those within a year, or
//! else among the latest 3 results of their item), prescriptions (those within 100 days, or else
//! from the latest 3 prescribing occasions) — each entry naming its source institution.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};

use crate::audit::Interaction;
use crate::audit::Touch;
use crate::clins::classes::retention_class;
use crate::error::Error;
use crate::interactions::Services;
use crate::retention::rules::{lab_item, micros_of};
use crate::store::PatientResource;

const TYPES: [&str; 4] = [
    "Condition",
    "AllergyIntolerance",
    "Observation",
    "MedicationRequest",
];
const DAY_MICROS: i64 = 86_400_000_000;
const LAB_WINDOW_DAYS: i64 = 365;
const PRESCRIPTION_WINDOW_DAYS: i64 = 100;
const LATEST: usize = 3;
const INSTITUTION_EXTENSION: &str =
    "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber";
const INSTITUTION_SYSTEM: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";

/// One candidate: the stored row, its parsed content and its class.
struct Item {
    row: PatientResource,
    resource: Value,
    class: String,
}

/// Applies the "within the window, or among the latest 3" rules; everything else is kept.
fn select(items: Vec<Item>, now: i64) -> Vec<Item> {
    let lab_since = now - LAB_WINDOW_DAYS * DAY_MICROS;
    let rx_since = now - PRESCRIPTION_WINDOW_DAYS * DAY_MICROS;
    let when = |i: &Item, field: &str| i.resource[field].as_str().and_then(micros_of);

    // Labs: per item, the 3 most recent results are kept whatever their age.
    let mut by_item: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for i in items.iter().filter(|i| i.class == "lab") {
        let at = when(i, "effectiveDateTime").unwrap_or(i.row.last_updated);
        by_item
            .entry(
                i.row
                    .retention_group
                    .clone()
                    .unwrap_or_else(|| lab_item(&i.resource)),
            )
            .or_default()
            .push((at, i.row.id.clone()));
    }
    let mut latest_labs = HashSet::new();
    for results in by_item.values_mut() {
        results.sort_by(|a, b| b.cmp(a));
        latest_labs.extend(results.iter().take(LATEST).map(|(_, id)| id.clone()));
    }

    // Prescriptions: an occasion is the prescribing institution and day.
    let occasion = |i: &Item| {
        let day = i.resource["authoredOn"]
            .as_str()
            .map(|d| d.get(..10).unwrap_or(d).to_string())
            .unwrap_or_default();
        (day, i.row.institution.clone().unwrap_or_default())
    };
    let mut occasions: Vec<(String, String)> = items
        .iter()
        .filter(|i| i.class == "prescription")
        .map(occasion)
        .collect();
    occasions.sort();
    occasions.dedup();
    let latest_occasions: HashSet<(String, String)> =
        occasions.into_iter().rev().take(LATEST).collect();

    items
        .into_iter()
        .filter(|i| match i.class.as_str() {
            "lab" => {
                when(i, "effectiveDateTime").unwrap_or(i.row.last_updated) >= lab_since
                    || latest_labs.contains(&i.row.id)
            }
            "prescription" => {
                when(i, "authoredOn").unwrap_or(i.row.last_updated) >= rx_since
                    || latest_occasions.contains(&occasion(i))
            }
            _ => true,
        })
        .collect()
}

/// The order of sections in the summary.
fn rank(class: &str) -> usize {
    match class {
        "condition" => 0,
        "long-term" => 1,
        "allergy-drug" => 2,
        "allergy-other" => 3,
        "infection" => 4,
        "lab" => 5,
        "prescription" => 6,
        _ => 7,
    }
}

pub async fn summary(svc: &Services, base_url: &str, patient_id: &str) -> Result<Value, Error> {
    let id = patient_id.to_string();
    let session = svc.session();
    let (patient, rows) = svc
        .store
        .read(move |conn| {
            let mut scoped = session.scoped(conn)?;
            // Outside the scope the Patient answers as one that does not exist.
            let Some(patient) = scoped.current("Patient", &id)? else {
                return Ok::<_, Error>((None, Vec::new()));
            };
            let rows = scoped.current_of_patient(&id, &TYPES)?;
            Ok((Some(patient), rows))
        })
        .await?;
    let patient = match patient {
        Some(p) if !p.deleted => p,
        Some(_) => {
            return Err(Error::Gone {
                res_type: "Patient".into(),
                id: patient_id.into(),
            });
        }
        None => {
            return Err(Error::NotFound {
                res_type: "Patient".into(),
                id: patient_id.into(),
            });
        }
    };
    let items: Vec<Item> = rows
        .into_iter()
        .filter_map(|row| {
            let resource: Value = serde_json::from_str(&row.content).ok()?;
            let class = row.retention_class.clone().unwrap_or_else(|| {
                retention_class(&row.res_type, &resource)
                    .as_str()
                    .to_string()
            });
            Some(Item {
                row,
                resource,
                class,
            })
        })
        .collect();
    let now = svc.clock.now_micros();
    let mut kept = select(items, now);
    kept.sort_by_key(|i| rank(&i.class));
    let record = svc
        .audit_record(crate::audit::Action::Read, Interaction::Summary)
        .map(|r| {
            let mut r = r.target(Some("Patient"), Some(patient_id));
            r.entities.push(Touch::named("Patient", patient_id));
            r.entities.extend(
                kept.iter()
                    .map(|i| Touch::named(i.row.res_type.clone(), i.row.id.clone())),
            );
            r
        });
    svc.audit(record).await?;
    let parse = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .unwrap_or(Value::Null)
    };
    let mut entries = vec![json!({
        "fullUrl": format!("{base_url}/Patient/{patient_id}"),
        "resource": parse(&patient.content),
    })];
    for i in kept {
        let mut entry = json!({
            "fullUrl": format!("{base_url}/{}/{}", i.row.res_type, i.row.id),
            "resource": i.resource,
        });
        if let Some(inst) = &i.row.institution {
            entry["extension"] = json!([{
                "url": INSTITUTION_EXTENSION,
                "valueIdentifier": {"system": INSTITUTION_SYSTEM, "value": inst}
            }]);
        }
        entries.push(entry);
    }
    Ok(json!({
        "resourceType": "Bundle",
        "id": svc.ids.new_id(),
        "type": "collection",
        "timestamp": crate::fhir::instant::to_fhir_instant(now),
        "total": entries.len(),
        "entry": entries,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn item(id: &str, class: &str, resource: Value, institution: &str) -> Item {
        Item {
            row: PatientResource {
                res_type: resource["resourceType"].as_str().unwrap_or_default().into(),
                id: id.into(),
                content: String::new(),
                institution: Some(institution.into()),
                last_updated: 0,
                retention_class: Some(class.into()),
                retention_group: None,
            },
            resource,
            class: class.into(),
        }
    }

    fn lab(id: &str, code: &str, date: &str) -> Item {
        item(
            id,
            "lab",
            json!({"resourceType": "Observation", "effectiveDateTime": date,
                "code": {"coding": [{"system": "x/JP_CLINS_ObsLabResult_CoreLabo_CS", "code": code}]}}),
            "1318814790",
        )
    }

    fn rx(id: &str, day: &str, institution: &str) -> Item {
        item(
            id,
            "prescription",
            json!({"resourceType": "MedicationRequest", "authoredOn": day}),
            institution,
        )
    }

    fn ids(items: &[Item]) -> Vec<&str> {
        let mut v: Vec<&str> = items.iter().map(|i| i.row.id.as_str()).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn labs_are_kept_within_a_year_or_as_the_latest_three_of_their_item() {
        let now = micros_of("2026-11-21T00:00:00+09:00").unwrap();
        let items = vec![
            lab("alb-new", "ALB", "2026-10-01"),
            lab("alb-1", "ALB", "2024-01-01"),
            lab("alb-2", "ALB", "2023-01-01"),
            lab("alb-3", "ALB", "2022-01-01"),
            lab("k-old", "K", "2020-05-05T09:00:00+09:00"),
        ];
        // ALB: the recent one, then the two latest old ones make three; K keeps its only one.
        assert_eq!(
            ids(&select(items, now)),
            ["alb-1", "alb-2", "alb-new", "k-old"]
        );
    }

    #[test]
    fn prescriptions_are_kept_within_100_days_or_from_the_latest_three_occasions() {
        let now = micros_of("2026-11-21T00:00:00+09:00").unwrap();
        let items = vec![
            rx("recent", "2026-10-01", "A"),
            rx("o1a", "2025-01-10", "A"),
            rx("o1b", "2025-01-10", "A"),
            rx("o2", "2024-06-01", "B"),
            rx("o3", "2024-01-01", "A"),
            rx("o4", "2023-01-01", "A"),
        ];
        // Occasions by day: 2026-10-01, 2025-01-10, 2024-06-01 are the latest three.
        assert_eq!(ids(&select(items, now)), ["o1a", "o1b", "o2", "recent"]);
    }

    #[test]
    fn other_classes_are_all_kept() {
        let now = 0;
        let items = vec![
            item("c", "condition", json!({"resourceType": "Condition"}), "A"),
            item(
                "i",
                "infection",
                json!({"resourceType": "Observation"}),
                "A",
            ),
        ];
        assert_eq!(ids(&select(items, now)), ["c", "i"]);
    }
}
