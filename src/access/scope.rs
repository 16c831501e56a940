//! Which stored resources a caller may read, as data the store turns into one SQL condition.
//! Reads by id, searches, histories and conditional matches use the same condition, so a search
//! can never show what a read would refuse, and totals count only what may be seen.
//!
//! There is no default scope, and no way around one: the store's queries that return resources
//! or tell whether one exists (read, vread, search, count, history, conditional matches, a
//! patient's `$summary`) are methods of `store::Scoped`, a connection bound to a scope, built
//! per request from the caller (`interactions::session::Session::scoped`). Development mode
//! without authentication reads with [`Scope::System`], a scope value like the others, so
//! `grep -rn 'Scope::System' src` lists it. The server's own bookkeeping reads across callers
//! and returns no content to them through `store::System`, obtained only by naming its reason
//! (`store::SystemUse`: identity lookups, ownership checks before a write, the purger, an
//! operator's export, the audit trail), so `grep -rn 'SystemUse::' src` lists it.

/// The reading scope of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Deliberately unscoped: development mode without authentication.
    System,
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
    /// An insurer (保険者): the checkup reports that name this insurer number (the Bundle's
    /// computed `insurer` index, DESIGN §9), and resources about no patient.
    Insurer { number: String },
    /// An operator: only resources about no patient.
    NoPatientData,
}

impl Scope {
    /// Whether this is the unscoped [`Scope::System`]: no condition to apply.
    pub fn is_system(&self) -> bool {
        matches!(self, Scope::System)
    }

    /// Whether a resource written by `owner` is visible without asking the database: everything
    /// unscoped, an institution's own writes.
    pub fn owns(&self, owner: Option<&str>) -> bool {
        match self {
            Scope::System => true,
            Scope::Institution { number, .. } => owner == Some(number.as_str()),
            _ => false,
        }
    }
}
