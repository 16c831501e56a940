//! CLINS submissions: what hospital systems post beyond plain FHIR resources. A 6-information
//! Bundle (JP_Bundle_CLINS) registers a report unit keyed by (patient, Bundle-ID): its clinical
//! resources are stored one by one, classified for retention, and a re-send replaces the unit
//! whole; the unit is deleted whole by its Bundle-ID. Documents (referrals, checkup reports,
//! patient summaries) are registered by `documents`; both write through `members`. The names
//! they share with the lower layers (document kinds, identifier systems, retention classes) are
//! the vocabulary of `clins`.

mod apply;
mod delete;
pub mod documents;
pub mod flags;
mod members;
pub mod summary;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
pub mod unit_plan;
pub mod verdict;

use std::time::Instant;

use serde_json::Value;

pub use apply::Applied;
pub use delete::{DeletedUnits, delete_units};

use crate::audit::Interaction;
use crate::audit::Touch;
use crate::error::Error;
use crate::fhir::Issue;
use crate::interactions::Services;
use crate::store::StoreError;

/// The outcome of a registration, with the warnings to report.
#[derive(Debug, Clone)]
pub struct Registered {
    pub applied: Applied,
    pub warnings: Vec<Issue>,
}

/// Validates a 6-information Bundle (profiles when loaded, the service rules always) and
/// registers its report unit in one transaction.
pub async fn register_unit(
    svc: &Services,
    bundle: Value,
    deadline: Option<Instant>,
) -> Result<Registered, Error> {
    let (bundle, verdict) = judged(svc, bundle, verdict::unit).await?;
    let (plan, warnings) = verdict.into_plan()?;
    crate::interactions::access::check_submitter(&svc.caller, &plan.institution)?;
    // What the unit discards is not kept, not even in its Bundle.
    let bundle = if plan.discarded.is_empty() {
        bundle
    } else {
        unit_plan::without_entries(&bundle, &plan.discarded)
    };
    let ids = members::Ids::draw(svc, plan.members.len() + 2);
    let session = svc.session();
    let now = session.now;
    let write = apply::UnitWrite {
        svc: svc.clone(),
        plan,
        bundle,
        now,
        ids,
    };
    let record = svc
        .audit_record(crate::audit::Action::Create, Interaction::SubmitReportUnit)
        .map(|r| r.target(Some("Bundle"), None));
    let applied = svc
        .write_tx(session, deadline, record, move |tx| {
            let applied = write.run(tx)?;
            tx.note_written(&applied.bundle, applied.created);
            Ok(applied)
        })
        .await?;
    Ok(Registered { applied, warnings })
}

type Judge<P> = fn(
    Option<&crate::validation::Validator>,
    &Value,
    Option<&str>,
    &[Value],
) -> verdict::Verdict<P>;

/// A submission's verdict, worked out on the validation pool (a document can take long to
/// check); the Bundle is moved there and back, not copied. With validation on write, a
/// submission is held to its profiles too, and its QuestionnaireResponses to the stored
/// Questionnaires the caller may read, as on a plain write.
async fn judged<P: Send + 'static>(
    svc: &Services,
    bundle: Value,
    judge: Judge<P>,
) -> Result<(Value, verdict::Verdict<P>), Error> {
    let validator = svc
        .validate_on_write
        .then(|| std::sync::Arc::clone(&svc.validator));
    let questionnaires = if validator.is_some() {
        let part = verdict::judged_part(&bundle);
        crate::interactions::questionnaires::stored_for(svc, &part).await?
    } else {
        Vec::new()
    };
    let judged = svc
        .cpu
        .run(move || {
            let verdict = judge(validator.as_deref(), &bundle, None, &questionnaires);
            (bundle, verdict)
        })
        .await?;
    Ok(judged)
}

/// What a submission's removal purged, each with its patient: the data subject's trail shows
/// the cancel or delete of their own data.
fn touches_of(removed: &[crate::store::Removed]) -> Vec<Touch> {
    removed
        .iter()
        .map(|r| Touch {
            res_type: r.res_type.clone(),
            res_id: r.res_id.clone(),
            patient: Some(r.patient_key.clone()),
        })
        .collect()
}

fn internal(what: &str) -> Error {
    Error::Store(StoreError::Task(what.to_string()))
}
