//! The caller of one request: the principal, and an emergency declaration when one was made
//! and allowed. Interactions read it from `Services` to scope reads, own writes, and audit.

use super::principal::Principal;
use super::scope::Scope;

/// 救急時医療情報閲覧: a practitioner holding the permission declared, on the request, the
/// two-factor method used and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emergency {
    pub method: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub principal: Principal,
    pub emergency: Option<Emergency>,
}

impl Caller {
    /// Development mode: no authentication, no restriction.
    pub fn open() -> Self {
        Caller {
            principal: Principal::Open,
            emergency: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.principal == Principal::Open
    }

    /// The reading scope, given the Patient ids of a patient principal's person (looked up by
    /// the caller of this function: it needs the database).
    pub fn scope(&self, patient_ids: Vec<String>) -> Scope {
        match &self.principal {
            Principal::Open => Scope::System,
            Principal::System { institution, .. } | Principal::Practitioner { institution, .. } => {
                Scope::Institution {
                    number: institution.clone(),
                    emergency: self.emergency.is_some(),
                }
            }
            Principal::Patient { identifier, .. } => Scope::Patient {
                person: super::person::PersonKey::parse(identifier)
                    .as_str()
                    .to_string(),
                patient_ids,
            },
            Principal::Insurer { insurer, .. } => Scope::Insurer {
                number: insurer.as_str().to_string(),
            },
            Principal::Operator { .. } => Scope::NoPatientData,
        }
    }

    /// Whether this caller writes clinical data at all (institutions; development mode).
    pub fn may_write(&self) -> bool {
        matches!(
            self.principal,
            Principal::Open | Principal::System { .. } | Principal::Practitioner { .. }
        )
    }
}
