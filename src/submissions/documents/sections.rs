//! The Composition sections the service reads: the addressee of a referral (section 910
//! 紹介先情報), the choice between CDA (200) and structured (300) content, the attachment
//! sections of a checkup report, and the documents attached to a referral (section 210
//! 添付情報). Sections are matched on their code alone: referrals use the CLINS
//! document-section system, checkup reports the eCheckup section-code system, and the codes do
//! not overlap.

use serde_json::Value;

use super::InstitutionNumber;
use super::rules::{err, list, text};
use crate::clins::kinds::Kind;
use crate::clins::systems::INSTITUTION_SYSTEM;
use crate::fhir::{Issue, IssueType};
use crate::messages::documents::{CdaOrStructured, DocumentMessage as M};

/// The entry whose `fullUrl` is `reference`, with its index.
pub(super) fn resolve<'a>(entries: &'a [Value], reference: &str) -> Option<(usize, &'a Value)> {
    entries
        .iter()
        .enumerate()
        .find(|(_, e)| text(e, "fullUrl") == Some(reference))
        .map(|(i, e)| (i, &e["resource"]))
}

fn code(section: &Value) -> Option<&str> {
    list(&section["code"], "coding")
        .iter()
        .find_map(|c| text(c, "code"))
}

/// The top-level sections with `code`, with their indexes.
fn sections<'a>(
    composition: &'a Value,
    wanted: &'a str,
) -> impl Iterator<Item = (usize, &'a Value)> {
    list(composition, "section")
        .iter()
        .enumerate()
        .filter(move |(_, s)| code(s) == Some(wanted))
}

/// The referral's addressee: the institution number of the one Organization in section 910.
pub(super) fn addressee(
    composition: &Value,
    c_at: &str,
    entries: &[Value],
    at: &str,
    errors: &mut Vec<Issue>,
) -> Option<String> {
    let Some((s, section)) = sections(composition, "910").next() else {
        errors.push(err(
            IssueType::Required,
            M::NoAddresseeSection,
            format!("{c_at}.section"),
        ));
        return None;
    };
    let organizations: Vec<(usize, &Value)> = list(section, "entry")
        .iter()
        .filter_map(|r| text(r, "reference"))
        .filter_map(|r| resolve(entries, r))
        .filter(|(_, r)| text(r, "resourceType") == Some("Organization"))
        .collect();
    let (j, organization) = match organizations.as_slice() {
        [one] => *one,
        [] => {
            errors.push(err(
                IssueType::Required,
                M::NoAddresseeOrganization,
                format!("{c_at}.section[{s}].entry"),
            ));
            return None;
        }
        _ => {
            errors.push(err(
                IssueType::Invalid,
                M::SeveralAddressees,
                format!("{c_at}.section[{s}].entry"),
            ));
            return None;
        }
    };
    let o_at = format!("{at}.entry[{j}].resource.identifier");
    let numbers: Vec<(usize, Option<&str>)> = list(organization, "identifier")
        .iter()
        .enumerate()
        .filter(|(_, i)| text(i, "system") == Some(INSTITUTION_SYSTEM))
        .map(|(k, i)| (k, text(i, "value")))
        .collect();
    match numbers.as_slice() {
        [(k, value)] => match InstitutionNumber::parse(value.unwrap_or_default()) {
            Ok(n) => Some(n.as_str().to_string()),
            Err(findings) => {
                errors.push(err(
                    IssueType::Value,
                    M::AddresseeNumberInvalid { findings },
                    format!("{o_at}[{k}].value"),
                ));
                None
            }
        },
        [] => {
            errors.push(err(
                IssueType::Required,
                M::AddresseeNumberMissing {
                    system: INSTITUTION_SYSTEM.to_string(),
                },
                o_at,
            ));
            None
        }
        _ => {
            errors.push(err(IssueType::Invalid, M::SeveralAddresseeNumbers, o_at));
            None
        }
    }
}

/// A referral carries exactly one of section 200 (CDA document) or 300 (structured content).
pub(super) fn cda_or_structured(composition: &Value, c_at: &str, errors: &mut Vec<Issue>) {
    let cda = sections(composition, "200").count();
    let structured = sections(composition, "300").count();
    let problem = match (cda, structured) {
        (1, 0) | (0, 1) => return,
        (0, 0) => CdaOrStructured::Neither,
        (c, s) if c > 0 && s > 0 => CdaOrStructured::Both,
        _ => CdaOrStructured::Repeated,
    };
    errors.push(err(
        IssueType::Invalid,
        M::CdaOrStructured(problem),
        format!("{c_at}.section"),
    ));
}

/// A checkup report attaches its results either as section 01995 or as the generic sections
/// 01910/01920, not both (DESIGN §6).
pub(super) fn checkup_attachments(composition: &Value, c_at: &str, errors: &mut Vec<Issue>) {
    let whole = sections(composition, "01995").next();
    let generic = sections(composition, "01910")
        .chain(sections(composition, "01920"))
        .next();
    if let (Some(_), Some((i, _))) = (whole, generic) {
        errors.push(err(
            IssueType::Invalid,
            M::CheckupAttachedTwice,
            format!("{c_at}.section[{i}]"),
        ));
    }
}

fn is_discharge_summary(resource: &Value) -> bool {
    if Kind::of(resource) == Some(Kind::DischargeSummary) {
        return true;
    }
    let first = list(resource, "entry").first().map(|e| &e["resource"]);
    first.is_some_and(|c| {
        text(c, "resourceType") == Some("Composition")
            && list(&c["type"], "coding")
                .iter()
                .any(|t| text(t, "code") == Some(Kind::DischargeSummary.composition_type()))
    })
}

/// The discharge summaries embedded in a referral (entries holding a document Bundle, slice
/// bundleData), each of which section 210 must reference.
pub(super) fn attached_discharge_summaries<'a>(
    composition: &Value,
    c_at: &str,
    entries: &'a [Value],
    errors: &mut Vec<Issue>,
) -> Vec<(usize, &'a Value)> {
    let attached: Vec<&str> = sections(composition, "210")
        .flat_map(|(_, s)| list(s, "entry"))
        .filter_map(|r| text(r, "reference"))
        .collect();
    let mut found = Vec::new();
    for (k, entry) in entries.iter().enumerate() {
        let resource = &entry["resource"];
        if text(resource, "resourceType") != Some("Bundle") || !is_discharge_summary(resource) {
            continue;
        }
        let referenced = text(entry, "fullUrl").is_some_and(|u| attached.contains(&u));
        if !referenced {
            errors.push(err(
                IssueType::Invalid,
                M::DischargeSummaryNotReferenced {
                    composition: c_at.to_string(),
                },
                format!("Bundle.entry[{k}]"),
            ));
            continue;
        }
        found.push((k, resource));
    }
    found
}
