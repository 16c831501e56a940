//! Two hospitals and an operator: the callers of the tests that check one interaction is scoped
//! (the other hospital sees nothing) and audited (the operator reads the trail).

use super::principals::{Principal, SignedIn};

pub const A: &str = "1318814790";
pub const B: &str = "2712345678";

#[derive(Debug, Clone, Copy)]
pub enum Who {
    HospitalA,
    HospitalB,
    Operator,
}

pub const EVERYONE: [Who; 3] = [Who::HospitalA, Who::HospitalB, Who::Operator];

impl Principal for Who {
    fn grant(self) -> String {
        match self {
            Who::HospitalA => format!("role = \"system\"\ninstitution = \"{A}\""),
            Who::HospitalB => format!("role = \"system\"\ninstitution = \"{B}\""),
            Who::Operator => "role = \"operator\"".to_string(),
        }
    }
}

/// The successful read events of `who` that name `reference`, as the operator sees the trail.
pub fn reads_of(s: &SignedIn<Who>, who: Who, reference: &str) -> usize {
    let (status, bundle) = s.get(Who::Operator, "AuditEvent?_count=1000");
    assert_eq!(status, 200, "{bundle}");
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|e| e["agent"][0]["who"]["display"] == who.name().as_str())
        .filter(|e| e["subtype"][0]["code"] == "read" && e["outcome"] == "0")
        .filter(|e| {
            e["entity"].as_array().is_some_and(|es| {
                es.iter()
                    .any(|x| x["what"]["reference"].as_str() == Some(reference))
            })
        })
        .count()
}
