//! Which stored resources a caller may read, as data the store turns into one SQL condition.
//! Reads by id, searches and histories use the same condition, so a search can never show what
//! a read would refuse, and totals count only what may be seen.

/// The reading scope of a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scope {
    /// Development mode: everything.
    #[default]
    All,
    /// An institution's system or practitioner: its own data; other institutions' data under
    /// the patient's current consent (or an emergency declaration); referrals addressed to it;
    /// never another's UNDELIVERED condition.
    Institution { number: String, emergency: bool },
    /// A patient: resources of this person (`access::person`, the member identifier) whichever
    /// institution wrote them, minus hidden conditions and referrals. `patient_ids` are the
    /// person's Patient records, by which the audit trail is kept.
    Patient {
        person: String,
        patient_ids: Vec<String>,
    },
    /// An operator: only resources about no patient.
    NoPatientData,
}

impl Scope {
    pub fn is_all(&self) -> bool {
        matches!(self, Scope::All)
    }

    /// Whether a resource written by `owner` is visible without asking the database: everything
    /// in development mode, an institution's own writes.
    pub fn owns(&self, owner: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::Institution { number, .. } => owner == Some(number.as_str()),
            _ => false,
        }
    }
}
