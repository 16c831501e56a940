//! The insurers (保険者) of a checkup report (健康診断結果報告書): an insurer reads the checkup
//! reports of the persons it insures (DESIGN §9), and this is how a report says who insures its
//! patient. The numbers are indexed with the Bundle (computed search parameter `insurer`), where
//! the access rule of an insurer principal finds them.

use serde_json::Value;

use super::rules::{list, text};
use super::sections::resolve;
use crate::access::principal::InsurerNumber;
use crate::clins::systems::{INSURANCE_MEMBER_ID, INSURER_SYSTEM};

/// The insurer numbers a checkup report names, sorted and without repeats: the first part of
/// its patient's member identifier (`insurer:symbol:number:branch`, `patient_identifier` being
/// `system|value`), and the payor of each Coverage entry, an Organization entry it references or
/// its own identifier, with system [`INSURER_SYSTEM`]. A public payer (公費負担者) is no insurer.
pub fn insurers(entries: &[Value], patient_identifier: &str) -> Vec<InsurerNumber> {
    let mut found = Vec::new();
    if let Some(value) = patient_identifier
        .strip_prefix(INSURANCE_MEMBER_ID)
        .and_then(|rest| rest.strip_prefix('|'))
    {
        found.extend(value.split(':').next().and_then(InsurerNumber::parse));
    }
    let coverages = entries
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| text(r, "resourceType") == Some("Coverage"));
    for coverage in coverages {
        for payor in list(coverage, "payor") {
            let organization = text(payor, "reference")
                .and_then(|r| resolve(entries, r))
                .map(|(_, o)| o)
                .filter(|o| text(o, "resourceType") == Some("Organization"));
            let identifiers = match organization {
                Some(o) => list(o, "identifier"),
                None => payor
                    .get("identifier")
                    .map(std::slice::from_ref)
                    .unwrap_or_default(),
            };
            found.extend(
                identifiers
                    .iter()
                    .filter(|i| text(i, "system") == Some(INSURER_SYSTEM))
                    .filter_map(|i| text(i, "value"))
                    .filter_map(|v| InsurerNumber::parse(v.trim())),
            );
        }
    }
    found.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn numbers(entries: &[Value], patient: &str) -> Vec<String> {
        insurers(entries, patient)
            .into_iter()
            .map(|n| n.as_str().to_string())
            .collect()
    }

    #[test]
    fn the_member_identifier_names_the_insurer() {
        let member = format!("{INSURANCE_MEMBER_ID}|00012345:あいう:１８７:01");
        assert_eq!(numbers(&[], &member), ["00012345"]);
        let public =
            "http://jpfhir.jp/fhir/clins/Idsystem/JP_PublicPayer_memberID|12345678::1234567:";
        assert!(numbers(&[], public).is_empty());
        let short = format!("{INSURANCE_MEMBER_ID}|123456:a:1:01");
        assert!(numbers(&[], &short).is_empty());
    }

    #[test]
    fn a_coverage_payor_names_the_insurer_by_entry_or_identifier() {
        let entries = vec![
            json!({"fullUrl": "urn:uuid:ins", "resource": {"resourceType": "Organization",
                "identifier": [{"system": INSURER_SYSTEM, "value": "06123456"}]}}),
            json!({"fullUrl": "urn:uuid:c1", "resource": {"resourceType": "Coverage",
                "payor": [{"reference": "urn:uuid:ins"}]}}),
            json!({"fullUrl": "urn:uuid:c2", "resource": {"resourceType": "Coverage",
                "payor": [{"identifier": {"system": INSURER_SYSTEM, "value": "39123456"}},
                          {"identifier": {"system": "urn:other", "value": "11111111"}}]}}),
            json!({"fullUrl": "urn:uuid:c3", "resource": {"resourceType": "Coverage",
                "payor": [{"reference": "urn:uuid:ins"}]}}),
        ];
        let member = format!("{INSURANCE_MEMBER_ID}|06123456:a:1:01");
        assert_eq!(numbers(&entries, &member), ["06123456", "39123456"]);
    }
}
