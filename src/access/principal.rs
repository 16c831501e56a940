//! Who is calling: the principal a credential (bearer token or client certificate) stands for.
//! DESIGN §9: every caller is an institution's system or practitioner, a patient, an insurer, or
//! an operator.

use std::fmt;

/// An authenticated caller. `Open` exists only in the development mode that runs without any
/// authentication configured (loopback only); it may do everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Open,
    /// An institution's EHR system.
    System {
        institution: String,
        name: String,
    },
    /// A practitioner of an institution; `emergency` is the 救急時医療情報閲覧 permission.
    Practitioner {
        institution: String,
        name: String,
        emergency: bool,
    },
    /// A patient, known by the member identifier (`system|value`) the submissions carry.
    Patient {
        identifier: String,
        name: String,
    },
    /// 保険者: a health insurer, known by its 8-digit insurer number; reads the checkup reports of
    /// the persons it insures and nothing else of anyone's.
    Insurer {
        insurer: InsurerNumber,
        name: String,
    },
    /// Runs purges and imports, reads the audit trail; never clinical content.
    Operator {
        name: String,
    },
}

/// The kinds of principal, for configuration and audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    System,
    Practitioner,
    Patient,
    Insurer,
    Operator,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "system" => Some(Role::System),
            "practitioner" => Some(Role::Practitioner),
            "patient" => Some(Role::Patient),
            "insurer" => Some(Role::Insurer),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Practitioner => "practitioner",
            Role::Patient => "patient",
            Role::Insurer => "insurer",
            Role::Operator => "operator",
        }
    }
}

impl Principal {
    /// The institution number of a system or practitioner.
    pub fn institution(&self) -> Option<&str> {
        match self {
            Principal::System { institution, .. } | Principal::Practitioner { institution, .. } => {
                Some(institution)
            }
            _ => None,
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::Open => None,
            Principal::System { .. } => Some(Role::System),
            Principal::Practitioner { .. } => Some(Role::Practitioner),
            Principal::Patient { .. } => Some(Role::Patient),
            Principal::Insurer { .. } => Some(Role::Insurer),
            Principal::Operator { .. } => Some(Role::Operator),
        }
    }

    /// The configured name of the credential's holder (never a secret).
    pub fn name(&self) -> &str {
        match self {
            Principal::Open => "development",
            Principal::System { name, .. }
            | Principal::Practitioner { name, .. }
            | Principal::Patient { name, .. }
            | Principal::Insurer { name, .. }
            | Principal::Operator { name } => name,
        }
    }
}

/// A health insurer's number (保険者番号): 8 digits, as the first part of a member identifier
/// carries it (a 6-digit 国民健康保険 number is written with two leading zeros).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InsurerNumber(String);

impl InsurerNumber {
    pub fn parse(value: &str) -> Option<InsurerNumber> {
        (value.len() == 8 && value.bytes().all(|b| b.is_ascii_digit()))
            .then(|| InsurerNumber(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.institution() {
            Some(i) => write!(
                f,
                "{} {} of {i}",
                self.role().map_or("open", Role::as_str),
                self.name()
            ),
            None => write!(
                f,
                "{} {}",
                self.role().map_or("open", Role::as_str),
                self.name()
            ),
        }
    }
}
