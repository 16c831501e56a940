//! The audit record a request builds (DESIGN §9, FHIR AuditEvent): who did what to which
//! resources, with what outcome, and whether as an emergency, its codes typed. Stored as an
//! [`AuditRow`] apart from clinical data, in the transaction of the change it records. Never
//! clinical content, never credentials.

use super::vocabulary::{Action, Interaction, Outcome};
use crate::access::{Caller, Emergency};
use crate::store::{AuditRow, Touch};

/// One audit event, as a request records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: String,
    pub recorded: i64,
    pub action: Action,
    pub interaction: Interaction,
    pub outcome: Outcome,
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

impl AuditRecord {
    pub fn new(
        caller: &Caller,
        id: String,
        recorded: i64,
        action: Action,
        interaction: Interaction,
    ) -> Self {
        AuditRecord {
            id,
            recorded,
            action,
            interaction,
            outcome: Outcome::Success,
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
        self.outcome = Outcome::of_status(status);
        self.detail = Some(format!("HTTP {status}, {issues} issue(s)"));
        self
    }
}

/// The row the trail stores: the codes as their texts. The trail is not read back into a
/// record: `audit::resource` renders the row as stored, so an event whose text no vocabulary of
/// this version knows (an older or newer server's) still reads instead of failing the page.
impl From<AuditRecord> for AuditRow {
    fn from(r: AuditRecord) -> Self {
        AuditRow {
            id: r.id,
            recorded: r.recorded,
            action: r.action.as_str().to_string(),
            interaction: r.interaction.as_str().to_string(),
            outcome: r.outcome.as_str().to_string(),
            detail: r.detail,
            role: r.role,
            agent_name: r.agent_name,
            institution: r.institution,
            emergency: r.emergency,
            res_type: r.res_type,
            res_id: r.res_id,
            entities: r.entities,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_stored_as_the_texts_of_its_codes() {
        let record = AuditRecord {
            id: "e".into(),
            recorded: 1,
            action: Action::Delete,
            interaction: Interaction::CancelDocument,
            outcome: Outcome::MinorFailure,
            detail: Some("HTTP 409, 1 issue(s)".into()),
            role: "institution".into(),
            agent_name: "a".into(),
            institution: Some("1318814790".into()),
            emergency: None,
            res_type: Some("Bundle".into()),
            res_id: Some("b".into()),
            entities: vec![Touch::named("Bundle", "b")],
        };
        let row = AuditRow::from(record);
        let codes = (
            row.action.as_str(),
            row.interaction.as_str(),
            row.outcome.as_str(),
        );
        assert_eq!(codes, ("D", "cancel-document", "4"));
    }
}
