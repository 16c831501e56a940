//! The service rules of a CLINS document, checked whatever packages are loaded, and the plan of
//! what registering it writes: the document's identity and version, its patient, the addressee
//! of a referral, the resources extracted into the patient's record, and the values of the
//! Bundle's computed search parameters. Pure: no database.

use serde_json::{Value, json};

use super::extract::{MemberIds, clinical_entries};
use super::sections;
use crate::clins::kinds::Kind;
use crate::clins::systems::{
    INSTITUTION_SYSTEM, INSURER_PARAM, INSURER_SYSTEM, RESOURCE_IDENTIFIER,
};
use crate::fhir::{Issue, IssueType};
use crate::messages::DocumentMessage as M;
use crate::submissions::unit_plan::{PlannedMember, bundle_id, member_id_at};

pub const VERSION_EXTENSION: &str =
    "http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber";

/// What registering a document writes.
#[derive(Debug, Clone)]
pub struct DocumentPlan {
    pub kind: Kind,
    /// Composition.identifier value (文書ID).
    pub document_identifier: String,
    /// The composition-clinicaldocument-versionNumber.
    pub version: String,
    /// The Bundle-ID value.
    pub bundle_identifier: String,
    /// The sending institution: the Bundle-ID's first 10 digits.
    pub institution: String,
    /// The addressee's institution number (referrals).
    pub recipient: Option<String>,
    /// `system|value` of the patient's member identifier.
    pub patient_identifier: String,
    pub patient: Value,
    /// The fullUrls naming the patient: the document's Patient entry and those of the documents
    /// attached to it.
    pub patient_full_urls: Vec<String>,
    pub members: Vec<PlannedMember>,
    /// (computed Bundle search parameter, value node to index).
    pub index_values: Vec<(&'static str, Value)>,
}

impl DocumentPlan {
    /// Identifies the document: the sender and the document identifier.
    pub fn document_key(&self) -> String {
        format!("{}\u{1f}{}", self.institution, self.document_identifier)
    }
}

/// An error of a service rule; `plan` names the document profile as its source.
pub(super) fn err(code: IssueType, message: M, at: impl Into<String>) -> Issue {
    Issue::error(code, message).at(at)
}

pub(super) fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(super) fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The parts every document has, read from a document Bundle located at `at`.
pub(super) struct Parsed<'a> {
    pub entries: &'a [Value],
    pub composition: &'a Value,
    pub identifier: Option<String>,
    pub version: Option<String>,
    pub patient: Option<(&'a Value, String)>,
    pub patient_full_url: Option<String>,
}

/// Checks the structure common to all documents: a `document` Bundle, the Composition first
/// with identifier, version, status final and the kind's type, and a Patient subject with one
/// member identifier.
pub(super) fn parse<'a>(
    bundle: &'a Value,
    at: &str,
    kind: Kind,
    errors: &mut Vec<Issue>,
) -> Parsed<'a> {
    if text(bundle, "type") != Some("document") {
        errors.push(err(
            IssueType::Value,
            M::NotDocumentType { kind },
            format!("{at}.type"),
        ));
    }
    let entries = list(bundle, "entry");
    let c_at = format!("{at}.entry[0].resource");
    let composition = match entries.first().map(|e| &e["resource"]) {
        Some(c) if text(c, "resourceType") == Some("Composition") => c,
        _ => {
            errors.push(err(IssueType::Structure, M::CompositionNotFirst, c_at));
            return Parsed {
                entries,
                composition: &Value::Null,
                identifier: None,
                version: None,
                patient: None,
                patient_full_url: None,
            };
        }
    };
    let identifier = composition
        .get("identifier")
        .filter(|i| text(i, "system") == Some(RESOURCE_IDENTIFIER))
        .and_then(|i| text(i, "value"))
        .filter(|v| !v.trim().is_empty())
        .map(str::to_string);
    if identifier.is_none() {
        errors.push(err(
            IssueType::Required,
            M::IdentifierMissing {
                system: RESOURCE_IDENTIFIER.to_string(),
            },
            format!("{c_at}.identifier"),
        ));
    }
    let version = list(composition, "extension")
        .iter()
        .find(|e| text(e, "url") == Some(VERSION_EXTENSION))
        .and_then(|e| text(e, "valueString"))
        .filter(|v| !v.trim().is_empty())
        .map(str::to_string);
    if version.is_none() {
        errors.push(err(
            IssueType::Required,
            M::VersionMissing {
                extension: VERSION_EXTENSION.to_string(),
            },
            format!("{c_at}.extension"),
        ));
    }
    match text(composition, "status") {
        Some("final") => {}
        other => errors.push(err(
            IssueType::Value,
            M::NotFinal {
                status: other.map(str::to_string),
            },
            format!("{c_at}.status"),
        )),
    }
    let typed = list(&composition["type"], "coding")
        .iter()
        .any(|c| text(c, "code") == Some(kind.composition_type()));
    if !typed {
        errors.push(err(
            IssueType::CodeInvalid,
            M::WrongCompositionType { kind },
            format!("{c_at}.type"),
        ));
    }
    let subject = composition
        .get("subject")
        .and_then(|s| text(s, "reference"));
    let found = subject.and_then(|r| sections::resolve(entries, r));
    let patient = match found {
        Some((i, p)) if text(p, "resourceType") == Some("Patient") => {
            let mut found = Vec::new();
            let id = member_id_at(p, &format!("{at}.entry[{i}].resource"), &mut found);
            // The rule is the 6-information one; here the document's profile is the source.
            errors.extend(found.into_iter().map(|mut e| {
                e.source = None;
                e
            }));
            id.map(|id| (p, id))
        }
        _ => {
            errors.push(err(
                IssueType::Required,
                M::SubjectNotPatient,
                format!("{c_at}.subject"),
            ));
            None
        }
    };
    Parsed {
        entries,
        composition,
        identifier,
        version,
        patient,
        patient_full_url: subject.map(str::to_string),
    }
}

/// Checks the rules and plans the registration; every broken rule is one error issue with its
/// location.
pub fn plan(bundle: &Value) -> Result<DocumentPlan, Vec<Issue>> {
    let Some(kind) = Kind::of(bundle) else {
        return Err(vec![err(
            IssueType::NotSupported,
            M::NoProfile,
            "Bundle.meta.profile",
        )]);
    };
    if kind == Kind::DischargeSummary {
        return Err(vec![
            Issue::error(IssueType::NotSupported, M::DischargeSummaryAlone)
                .at("Bundle.meta.profile")
                .from_rule(kind.profile()),
        ]);
    }
    let mut errors = Vec::new();
    let bundle_identifier = bundle_id(bundle, &mut errors);
    // The Bundle-ID rule is common to every submission (DESIGN §3); here the document's own
    // profile is the source named.
    for e in &mut errors {
        e.source = None;
    }
    let doc = parse(bundle, "Bundle", kind, &mut errors);
    let c_at = "Bundle.entry[0].resource";
    let mut recipient = None;
    let mut members = Vec::new();
    let mut patient_full_urls: Vec<String> = doc.patient_full_url.iter().cloned().collect();
    let mut ids = MemberIds::default();
    match kind {
        Kind::Referral => {
            recipient =
                sections::addressee(doc.composition, c_at, doc.entries, "Bundle", &mut errors);
            sections::cda_or_structured(doc.composition, c_at, &mut errors);
        }
        Kind::Checkup => sections::checkup_attachments(doc.composition, c_at, &mut errors),
        Kind::DischargeSummary | Kind::PatientSummary => {}
    }
    if kind.extracts() {
        members = clinical_entries(
            doc.entries,
            "Bundle",
            doc.patient_full_url.as_deref(),
            &mut ids,
            &mut errors,
        );
        for (k, attached) in
            sections::attached_discharge_summaries(doc.composition, c_at, doc.entries, &mut errors)
        {
            let at = format!("Bundle.entry[{k}].resource");
            let summary = parse(attached, &at, Kind::DischargeSummary, &mut errors);
            if let (Some((_, own)), Some((_, theirs))) = (&doc.patient, &summary.patient)
                && own != theirs
            {
                errors.push(err(
                    IssueType::Invalid,
                    M::OtherPatientAttached {
                        theirs: theirs.to_string(),
                        own: own.to_string(),
                    },
                    format!("{at}.entry[0].resource.subject"),
                ));
            }
            members.extend(clinical_entries(
                summary.entries,
                &at,
                summary.patient_full_url.as_deref(),
                &mut ids,
                &mut errors,
            ));
            patient_full_urls.extend(summary.patient_full_url);
        }
    }
    if !errors.is_empty() {
        for e in &mut errors {
            e.source.get_or_insert_with(|| kind.profile().to_string());
        }
        return Err(errors);
    }
    let (Some(bundle_identifier), Some(document_identifier), Some(version), Some((patient, pid))) =
        (bundle_identifier, doc.identifier, doc.version, doc.patient)
    else {
        return Err(vec![err(IssueType::Invalid, M::NotADocument, "Bundle")]);
    };
    let mut index_values = vec![(
        "document-identifier",
        json!({ "system": RESOURCE_IDENTIFIER, "value": document_identifier }),
    )];
    if let Some(t) = doc.composition.get("type") {
        index_values.push(("document-type", t.clone()));
    }
    if let Some(d) = doc.composition.get("date") {
        index_values.push(("document-date", d.clone()));
    }
    if kind == Kind::Checkup {
        for n in super::insurers::insurers(doc.entries, &pid) {
            index_values.push((
                INSURER_PARAM,
                json!({ "system": INSURER_SYSTEM, "value": n.as_str() }),
            ));
        }
    }
    if let Some(r) = &recipient {
        index_values.push((
            "recipient",
            json!({ "system": INSTITUTION_SYSTEM, "value": r }),
        ));
    }
    Ok(DocumentPlan {
        kind,
        institution: bundle_identifier.chars().take(10).collect(),
        bundle_identifier,
        document_identifier,
        version,
        recipient,
        patient_identifier: pid,
        patient: patient.clone(),
        patient_full_urls,
        members,
        index_values,
    })
}
