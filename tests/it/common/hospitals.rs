//! Two hospitals, an operator and two patients: the callers of the tests that check one
//! interaction is scoped (the other hospital sees nothing, a patient only their own record) and
//! audited (the operator reads the trail).

use serde_json::{Value, json};

use super::principals::{Principal, SignedIn, grant};

pub const A: &str = "1318814790";
pub const B: &str = "2712345678";
/// The identifier system of insurance member ids (被保険者番号), which a patient signs in by.
pub const MEMBER_SYSTEM: &str = super::documents::MEMBER_ID;
/// The member ids of [`Who::Patient1`] and [`Who::Patient2`].
pub const MEMBER_1: &str = "00012345:あいう:１８７:01";
pub const MEMBER_2: &str = "00012345:あいう:１８７:02";

#[derive(Debug, Clone, Copy)]
pub enum Who {
    HospitalA,
    HospitalB,
    Operator,
    Patient1,
    Patient2,
}

/// The hospitals and the operator.
pub const EVERYONE: [Who; 3] = [Who::HospitalA, Who::HospitalB, Who::Operator];

impl Principal for Who {
    fn grant(self) -> String {
        match self {
            Who::HospitalA => grant::institution(A),
            Who::HospitalB => grant::institution(B),
            Who::Operator => grant::operator(),
            Who::Patient1 => grant::patient(MEMBER_SYSTEM, MEMBER_1),
            Who::Patient2 => grant::patient(MEMBER_SYSTEM, MEMBER_2),
        }
    }
}

/// A Patient 山田 known by the member id `member` ([`MEMBER_SYSTEM`]), as a hospital records one.
pub fn patient(member: &str) -> Value {
    json!({"resourceType": "Patient",
           "identifier": [{"system": MEMBER_SYSTEM, "value": member}],
           "name": [{"family": "山田"}]})
}

/// The successful read events of `who` that name `reference`, as the operator sees the trail.
pub fn reads_of(s: &SignedIn<Who>, who: Who, reference: &str) -> usize {
    s.trail(Who::Operator, "_count=1000")
        .iter()
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
