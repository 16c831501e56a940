//! One verdict for a submission: the checks `POST [base]/Bundle` makes before it writes a report
//! unit or a document (the service rules, then the profiles), in one place, so that `$validate`
//! and `kyoyu validate` answer with the same errors a submission would get. Pure: no database;
//! the rules that need stored state are named, as information, as not checked.

use std::borrow::Cow;

use serde_json::Value;

use super::documents::{self, rules::DocumentPlan};
use super::unit_plan::{self, UnitPlan};
use crate::clins::kinds::{is_document, is_report_unit};
use crate::error::Error;
use crate::fhir::Issue;
use crate::fhir::outcome::cap_issues;
use crate::messages::documents::{DocumentMessage, Unchecked};
use crate::validation::{Validator, has_errors};

/// What the checks found: the service rules' issues first, then the profiles'; and the plan of
/// the write when the rules hold.
#[derive(Debug)]
pub struct Verdict<P> {
    pub issues: Vec<Issue>,
    pub plan: Option<P>,
}

impl<P> Verdict<P> {
    /// The plan with the warnings to report, or the refusal naming every issue.
    pub fn into_plan(self) -> Result<(P, Vec<Issue>), Error> {
        match self.plan {
            Some(plan) if !has_errors(&self.issues) => Ok((plan, self.issues)),
            _ => Err(Error::Unprocessable(self.issues)),
        }
    }
}

/// Checks a 6-information Bundle. The service rules go first because they decide what the
/// unit is: entries of a type it does not hold are discarded with a warning (DESIGN §4), so
/// the profiles judge the Bundle without them; judged with them, JP_Bundle_CLINS's closed entry
/// slicing and its institution-number invariants would refuse the whole unit for an entry the
/// service drops anyway. `validator` is `None` when profiles are not checked; its
/// QuestionnaireResponses are checked against `questionnaires` (the stored ones the caller may
/// read, see [`judged_part`]) when the Bundle and packages lack theirs.
pub fn unit(
    validator: Option<&Validator>,
    bundle: &Value,
    profile: Option<&str>,
    questionnaires: &[Value],
) -> Verdict<UnitPlan> {
    // The release in force may carry the LTS rule as an invariant (R6031): then it alone
    // reports it.
    let lts_in_profile = validator.is_some_and(|v| v.carries_rule(bundle, "R6031"));
    let (mut issues, plan) = match unit_plan::plan_with(bundle, lts_in_profile) {
        Ok(plan) => (plan.warnings.clone(), Some(plan)),
        Err(errors) => (errors, None),
    };
    if let Some(validator) = validator {
        let discarded = unit_plan::stray_entries(bundle);
        if discarded.is_empty() {
            issues.extend(validator.validate_with(bundle, profile, None, questionnaires));
        } else {
            let kept = unit_plan::without_entries(bundle, &discarded);
            let positions: Vec<usize> = (0..entry_count(bundle))
                .filter(|i| !discarded.contains(i))
                .collect();
            issues.extend(
                validator
                    .validate_with(&kept, profile, None, questionnaires)
                    .into_iter()
                    .map(|issue| renumbered(issue, &positions)),
            );
        }
        cap_issues(&mut issues, validator.max_issues(), false);
    }
    Verdict { issues, plan }
}

/// Checks a CLINS document Bundle: its service rules, then its profiles (when `validator`), its
/// QuestionnaireResponses against `questionnaires` as in [`unit()`].
pub fn document(
    validator: Option<&Validator>,
    bundle: &Value,
    profile: Option<&str>,
    questionnaires: &[Value],
) -> Verdict<DocumentPlan> {
    let (mut issues, plan) = match documents::rules::plan(bundle) {
        Ok(plan) => (Vec::new(), Some(plan)),
        Err(errors) => (errors, None),
    };
    if let Some(validator) = validator {
        issues.extend(validator.validate_with(bundle, profile, None, questionnaires));
        cap_issues(&mut issues, validator.max_issues(), false);
    }
    Verdict { issues, plan }
}

/// The part of `resource` the profiles judge, where the stored Questionnaires its responses
/// name are looked up: a report unit without the entries it discards (their responses are
/// never checked, so their forms are not read), anything else whole.
pub fn judged_part(resource: &Value) -> Cow<'_, Value> {
    if !is_report_unit(resource) {
        return Cow::Borrowed(resource);
    }
    let discarded = unit_plan::stray_entries(resource);
    if discarded.is_empty() {
        Cow::Borrowed(resource)
    } else {
        Cow::Owned(unit_plan::without_entries(resource, &discarded))
    }
}

/// The verdict on any resource without storing it: a report unit or a document gets what its
/// submission would (and the rules that need the store named as not checked), anything else
/// the profiles' verdict; QuestionnaireResponses are checked against `questionnaires` (the
/// stored ones the caller may read) when the request and packages lack theirs.
pub fn validate(
    validator: &Validator,
    resource: &Value,
    profile: Option<&str>,
    questionnaires: &[Value],
) -> Vec<Issue> {
    let (mut issues, unchecked): (Vec<Issue>, &[Unchecked]) = if is_report_unit(resource) {
        (
            unit(Some(validator), resource, profile, questionnaires).issues,
            UNIT_UNCHECKED,
        )
    } else if is_document(resource) {
        (
            document(Some(validator), resource, profile, questionnaires).issues,
            DOCUMENT_UNCHECKED,
        )
    } else {
        return validator.validate_with(resource, profile, None, questionnaires);
    };
    issues.extend(
        unchecked
            .iter()
            .map(|rule| Issue::information(DocumentMessage::NotChecked(*rule)).at("Bundle")),
    );
    cap_issues(&mut issues, validator.max_issues(), false);
    issues
}

const UNIT_UNCHECKED: &[Unchecked] = &[Unchecked::Submitter, Unchecked::OnePatient];
const DOCUMENT_UNCHECKED: &[Unchecked] = &[
    Unchecked::NewerVersion,
    Unchecked::Submitter,
    Unchecked::OnePatient,
];

fn entry_count(bundle: &Value) -> usize {
    bundle
        .get("entry")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// Locates an issue found on the Bundle without its discarded entries in the Bundle as sent:
/// `positions[k]` is where the k-th kept entry was.
fn renumbered(mut issue: Issue, positions: &[usize]) -> Issue {
    for at in &mut issue.expression {
        let Some((k, rest)) = at
            .strip_prefix("Bundle.entry[")
            .and_then(|r| r.split_once(']'))
        else {
            continue;
        };
        if let Some(was) = k.parse::<usize>().ok().and_then(|k| positions.get(k)) {
            *at = format!("Bundle.entry[{was}]{rest}");
        }
    }
    issue
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::fhir::IssueType;

    #[test]
    fn issues_on_the_kept_entries_are_located_in_the_bundle_as_sent() {
        let issue = Issue::error(IssueType::Value, "x").at("Bundle.entry[2].resource.status");
        let moved = renumbered(issue, &[0, 1, 3]);
        assert_eq!(moved.expression, ["Bundle.entry[3].resource.status"]);
        let whole = renumbered(Issue::error(IssueType::Value, "x").at("Bundle"), &[0, 2]);
        assert_eq!(whole.expression, ["Bundle"]);
    }
}
