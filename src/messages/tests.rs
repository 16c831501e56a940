//! The catalogue as a translator reads it: one example of every message, each of which must
//! say something in Japanese — not the English again, not an empty template.

use super::conformance::{Declared, Loaded};
use super::documents::{CdaOrStructured, Unchecked};
use super::requests::Refusal;
use super::service::FlagMisuse;
use super::values::{CalendarError, JsonKind, PrimitiveError};
use super::*;
use crate::submissions::documents::Kind;

fn s(text: &str) -> String {
    text.to_string()
}

fn value_examples() -> Vec<Message> {
    use ValueMessage as M;
    let calendar = [
        CalendarError::YearOutOfRange,
        CalendarError::NoSuchDay {
            year: 2023,
            month: 2,
            day: 29,
        },
        CalendarError::LeapSecondMinute { minute: 20 },
        CalendarError::NoSuchTimeOfDay,
        CalendarError::NoSuchZone { zone: s("+25:00") },
        CalendarError::LeapSecondDay,
    ];
    let mut primitives = vec![
        PrimitiveError::NotPositiveInt(0),
        PrimitiveError::NotUnsignedInt(-1),
        PrimitiveError::IntegerOutOfRange(1 << 40),
        PrimitiveError::NotAnInteger(s("1.5")),
        PrimitiveError::Empty,
        PrimitiveError::OnlyWhitespace,
        PrimitiveError::NoMatch {
            value: s("x"),
            ty: s("date"),
        },
        PrimitiveError::WrongJsonKind {
            ty: s("boolean"),
            json: "boolean",
            found: JsonKind::String,
        },
        PrimitiveError::Narrative(s("the div has no content")),
    ];
    primitives.extend(calendar.into_iter().map(|why| PrimitiveError::Calendar {
        value: s("2023-02-29"),
        ty: s("date"),
        why,
    }));
    let mut out: Vec<Message> = primitives
        .into_iter()
        .map(|p| M::Invalid(p).into())
        .collect();
    out.extend(
        [
            M::Fixed {
                value: s("\"final\""),
                ty: s("Code"),
            },
            M::Pattern {
                value: s("{}"),
                ty: s("Coding"),
            },
            M::TooLong { length: 9, max: 8 },
            M::BelowMinimum { min: s("0") },
            M::AboveMaximum { max: s("9") },
        ]
        .map(Message::from),
    );
    out
}

fn conformance_examples() -> Vec<Message> {
    use ConformanceMessage as M;
    let p = || s("http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS");
    let mut out = vec![
        M::ProfileUnusable {
            profile: p(),
            why: s("no snapshot"),
        },
        M::ProfileNotLoadedBaseDefinition { profile: p() },
        M::ProfileNotLoadedBaseType { profile: p() },
        M::ConformsToNone {
            res_type: s("Patient"),
            profiles: p(),
        },
        M::VersionNotInIg {
            asked: s("1.7.0"),
            url: p(),
            loaded: s("1.5.2, 1.10.0"),
            release: s("JP-CLINS 1.10.0"),
        },
        M::VersionNotLoaded {
            asked: s("1.7.0"),
            url: p(),
            loaded: s("1.5.2"),
        },
        M::SliceTooFew {
            id: s("Bundle.entry:patient"),
            min: 1,
            count: 0,
        },
        M::SliceTooMany {
            id: s("Bundle.entry:patient"),
            max: 1,
            count: 2,
        },
        M::SliceOutOfOrder {
            slice: s("b"),
            after: s("a"),
        },
        M::OpenAtEnd,
        M::ClosedSlicing { id: s("x") },
        M::ExtensionNotKnown {
            url: p(),
            modifier: false,
        },
        M::ExtensionNotKnown {
            url: p(),
            modifier: true,
        },
        M::ExtensionContext {
            url: p(),
            site: s("Patient"),
            allowed: s("Observation"),
        },
        M::NoCodeForRequiredBinding { value_set: p() },
        M::CodeUnchecked {
            code: s("x"),
            value_set: p(),
            strength: s("required"),
            why: s("not loaded"),
        },
        M::NotInValueSet {
            code: s("x"),
            value_set: p(),
            strength: s("required"),
        },
        M::CodeFinding {
            detail: s("check digit"),
        },
        M::ReferenceWrongType {
            reference: s("Practitioner/1"),
            res_type: s("Practitioner"),
            targets: p(),
        },
        M::ReferenceNotConforming {
            reference: s("Patient/1"),
            res_type: s("Patient"),
            targets: p(),
        },
        M::ImpliedTypeNotAllowed {
            path: s("Observation.subject"),
            res_type: s("Practitioner"),
            reference: s("Practitioner/1"),
            allowed: s("Patient, Group"),
        },
        M::DeclaredTypeDisagreesWithTarget {
            path: s("Observation.subject"),
            declared: s("Group"),
            reference: s("#p"),
            found: s("Patient"),
        },
        M::DeclaredTypeNotAResource {
            path: s("Observation.subject"),
            declared: s("specimen"),
        },
        M::DeclaredTypeDisagreesWithReference {
            path: s("Observation.subject"),
            declared: s("Group"),
            literal: s("Patient"),
        },
        M::TypeNotAllowed {
            path: s("Observation.subject"),
            res_type: s("Practitioner"),
            allowed: s("Patient, Group"),
        },
    ];
    for declared in [
        Declared::Exactly,
        Declared::NoVersion,
        Declared::As(s("1")),
        Declared::Replaced,
    ] {
        out.push(M::ValidatedAgainstRelease {
            release: s("JP-CLINS 1.10.0"),
            url: p(),
            version: s("1.10.0"),
            declared,
        });
    }
    for how in [Loaded::Exactly, Loaded::Partial, Loaded::NotLoaded] {
        out.push(M::ValidatedAgainstLoaded {
            url: p(),
            loaded: s("1.5.2"),
            asked: s("1.5"),
            how,
        });
    }
    out.into_iter().map(Message::from).collect()
}

fn document_examples() -> Vec<Message> {
    use DocumentMessage as M;
    let mut out = Vec::new();
    for kind in [
        Kind::Referral,
        Kind::DischargeSummary,
        Kind::Checkup,
        Kind::PatientSummary,
    ] {
        out.push(M::NotDocumentType { kind });
        out.push(M::WrongCompositionType { kind });
    }
    out.extend([
        M::CompositionNotFirst,
        M::IdentifierMissing { system: s("urn:x") },
        M::VersionMissing {
            extension: s("urn:x"),
        },
        M::NotFinal { status: None },
        M::NotFinal {
            status: Some(s("preliminary")),
        },
        M::SubjectNotPatient,
        M::NoProfile,
        M::DischargeSummaryAlone,
        M::NotADocument,
        M::OtherPatientAttached {
            theirs: s("a"),
            own: s("b"),
        },
        M::NoAddresseeSection,
        M::NoAddresseeOrganization,
        M::SeveralAddressees,
        M::AddresseeNumberInvalid { why: s("9 digits") },
        M::AddresseeNumberMissing { system: s("urn:x") },
        M::SeveralAddresseeNumbers,
        M::CdaOrStructured(CdaOrStructured::Neither),
        M::CdaOrStructured(CdaOrStructured::Both),
        M::CdaOrStructured(CdaOrStructured::Repeated),
        M::CheckupAttachedTwice,
        M::DischargeSummaryNotReferenced {
            composition: s("Bundle.entry[0].resource"),
        },
        M::ExtractedOtherPatient {
            res_type: s("Condition"),
            reference: s("urn:uuid:1"),
            patient: s("urn:uuid:2"),
        },
        M::NotChecked(Unchecked::NewerVersion),
        M::NotChecked(Unchecked::Submitter),
        M::NotChecked(Unchecked::OnePatient),
        M::PrescriptionWrite { how: s("PUT") },
        M::ReportUnitWrite { how: s("PUT") },
        M::DocumentWrite { how: s("PUT") },
        M::ReceiptNotParameters,
        M::ReceiptInstitutionMissing,
        M::ReceiptInstitutionSystem { system: s("urn:x") },
        M::ReceiptInstitutionType,
        M::ReceiptInstitutionInvalid { why: s("9 digits") },
        M::ReceiptNotReferral {
            id: s("1"),
            kind: s("checkup"),
        },
        M::ReceiptForOtherInstitution {
            mine: s("1"),
            asked: s("2"),
        },
        M::ReceiptNotAddressee {
            institution: s("1"),
            id: s("2"),
        },
        M::CancelByOtherSystem {
            system: s("urn:x"),
            asked: s("urn:y"),
        },
        M::CancelRaced,
        M::CancelSeveralSenders {
            identifier: s("1"),
            count: 2,
        },
        M::OlderVersion {
            identifier: s("1"),
            registered: s("3"),
            posted: s("2"),
        },
    ]);
    out.into_iter().map(Message::from).collect()
}

fn interaction_examples() -> Vec<Message> {
    use InteractionMessage as M;
    [
        M::RoleMayNotWrite { role: s("patient") },
        M::WrittenByAnother {
            reference: s("Patient/1"),
        },
        M::SubmitsForOther {
            named: s("1"),
            mine: s("2"),
        },
        M::HistoryForInstitutions,
        M::DocumentStatusForPatients,
        M::ConsentOfOwnRecord {
            res_type: s("Consent"),
        },
        M::AuditTrailReaders,
        M::AuditTrailOwnRecord,
        M::EmergencyNotPermitted,
        M::EmergencyUnknownMethod {
            methods: s("totp, sms"),
        },
        M::EmergencyNoReason,
        M::EmergencyNoMethod,
        M::IfMatchOtherVersion {
            expected: s("1"),
            reference: s("Patient/1"),
            current: 2,
            deleted: true,
        },
        M::IfMatchNoResource {
            expected: s("1"),
            reference: s("Patient/1"),
        },
        M::IfNoneExistSeveral { count: 2 },
        M::DeleteCriteriaSeveral {
            res_type: s("Patient"),
        },
        M::SeveralPatientsWithMemberId { count: 2 },
        M::BundleIdSeveralUnits {
            value: s("1"),
            count: 2,
        },
        M::DeleteUnitByOtherSystem {
            system: s("urn:x"),
            asked: s("urn:y"),
        },
        M::EntryPlanning { twice: true },
        M::EntryPlanning { twice: false },
        M::TypeMismatch {
            found: s("Patient"),
            url: s("Observation"),
        },
        M::NoResourceType,
        M::IdMismatch {
            found: s("1"),
            url: s("2"),
        },
        M::UpdateWithoutId,
        M::InvalidId { id: s("$") },
        M::EmptyCriteria,
        M::NotABundle,
        M::BundleTypeNotProcessed {
            found: s("document"),
        },
        M::BundleTypeMissing,
        M::EntryNotArray,
        M::RequestMissing,
        M::RequestUrlMissing,
        M::EntryWithoutResource { method: "POST" },
        M::NotReadInBundles {
            url: s("CodeSystem/1"),
            res_type: s("CodeSystem"),
        },
        M::OnlyReadInBundles { url: s("Patient") },
        M::NotSupportedInEntry {
            method: s("PATCH"),
            url: s("Patient/1"),
        },
        M::UnknownMethod { method: s("HEAD") },
        M::NotAnETag { tag: s("3") },
        M::FullUrlTwice {
            url: s("urn:uuid:1"),
            first: 0,
        },
        M::IfNoneExistChangedElsewhere {
            reference: s("Patient/1"),
        },
        M::ChangedTwice {
            identity: s("Patient/1"),
        },
        M::IfNoneExistMatchesSeveral,
        M::DeleteAlwaysAllowed,
        M::ValidateNeedsResource,
        M::ValidateTypeMismatch {
            body: s("Patient"),
            url: s("Observation"),
        },
        M::ValidateUpdateId { id: s("1") },
        M::UnitDeleteParameter {
            parameter: s("_id"),
        },
        M::UnitDeleted { resources: 3 },
        M::DocumentCancelled { resources: 3 },
        M::UnitWrittenDirectly {
            id: s("1"),
            how: s("update"),
        },
        M::DocumentWrittenDirectly { id: s("1") },
        M::SchemaNotCurrent {
            detail: s("000014 pending"),
        },
        M::DatabaseUnreachable,
        M::DatabaseCheckFailed,
        M::DatabaseSlow { seconds: 5 },
        M::NoEndpoint { path: s("/x") },
        M::NoOperation {
            res_type: s("Patient"),
            operation: s("$x"),
        },
        M::NoHistory {
            res_type: s("CodeSystem"),
        },
        M::FormatNotSupported { format: s("csv") },
        M::CannotAnswerIn {
            accept: s("text/csv"),
        },
        M::ContentTypeNotSupported {
            content_type: s("text/csv"),
        },
        M::SearchParameterIgnored {
            parameter: s("_foo"),
        },
    ]
    .into_iter()
    .map(Message::from)
    .collect()
}

fn validation_examples() -> Vec<Message> {
    use ValidationMessage as M;
    [
        M::ConstraintFailed {
            key: s("ele-1"),
            expression: s("hasValue()"),
        },
        M::ConstraintNotEvaluated {
            key: s("ele-1"),
            why: s("unknown function"),
        },
        M::NoResourceType,
        M::UnknownResourceType { name: s("Foo") },
        M::NotAResourceType { name: s("Foo") },
        M::WrongProfileType {
            res_type: s("Patient"),
            profile: s("urn:x"),
            profile_type: s("Observation"),
        },
        M::UnknownElement { name: s("foo") },
        M::ChoiceTypeNotAllowed {
            key: s("valueFoo"),
            name: s("value"),
        },
        M::ChoiceWithSeveralTypes {
            name: s("value"),
            keys: vec![s("valueQuantity"), s("valueString")],
        },
        M::ExtensionPartOnComplex {
            ext_key: s("_code"),
            key: s("code"),
            ty: s("CodeableConcept"),
        },
        M::ExtensionPartLength {
            key: s("given"),
            ext_key: s("_given"),
            values: 1,
            parts: 2,
        },
        M::PrimitiveWithoutValue,
        M::RequiredMissing {
            path: s("Observation.status"),
        },
        M::TooFew {
            id: s("x"),
            min: 1,
            count: 0,
        },
        M::TooMany {
            id: s("x"),
            max: 1,
            count: 2,
        },
        M::EmptyArray,
        M::NullInArray,
        M::NullValue,
        M::NotAnArray { key: s("gender") },
        M::EmptyElement,
        M::ProfileNotKnown {
            profile: s("urn:x"),
        },
        M::ProfileNotLoaded {
            profile: s("urn:x"),
            res_type: s("Patient"),
        },
        M::WrongJsonShape,
        M::ResourceTypeMissing,
        M::PrimitiveExtensionNotObject,
        M::NotAnObject {
            ty: s("Coding"),
            found: JsonKind::String,
        },
        M::MustBeArray,
        M::UnknownType { ty: s("Foo") },
        M::StructuralPassUnavailable { why: s("x") },
        M::SchemaError {
            at: s("Patient.name"),
            detail: s("not an array"),
        },
        M::FileUnreadable { why: s("denied") },
    ]
    .into_iter()
    .map(Message::from)
    .collect()
}

fn request_and_service_examples() -> Vec<Message> {
    let mut out: Vec<Message> = [
        RequestMessage::AllOk,
        RequestMessage::Busy,
        RequestMessage::NotFound {
            reference: s("Patient/1"),
        },
        RequestMessage::Refused {
            kind: Refusal::Forbidden,
            detail: s("x"),
        },
        RequestMessage::Refused {
            kind: Refusal::Conflict,
            detail: s("x"),
        },
    ]
    .into_iter()
    .map(Message::from)
    .collect();
    out.extend(
        [
            ServiceMessage::NotCollection,
            ServiceMessage::FirstEntryNotPatient,
            ServiceMessage::Flag {
                code: s("LTS"),
                res_type: s("Observation"),
                misuse: FlagMisuse::LtsOnLab,
            },
        ]
        .map(Message::from),
    );
    out
}

fn questionnaire_examples() -> Vec<Message> {
    use QuestionnaireMessage as M;
    let l = || s("age");
    let vs = || s("http://example.org/ValueSet/colours");
    [
        M::NoQuestionnaire,
        M::NotFound {
            canonical: s("http://example.jp/Questionnaire/q"),
        },
        M::NoLinkId,
        M::OutOfOrder { link_id: l() },
        M::WrongPlace { link_id: l() },
        M::UnknownLinkId { link_id: l() },
        M::AnsweredWhileDisabled { link_id: l() },
        M::RepeatedItem {
            link_id: l(),
            count: 2,
        },
        M::RequiredMissing { link_id: l() },
        M::TextDiffers { link_id: l() },
        M::RepeatedAnswer {
            link_id: l(),
            count: 2,
        },
        M::GroupAnswered { link_id: l() },
        M::DisplayAnswered { link_id: l() },
        M::DisplayWithItems { link_id: l() },
        M::ItemsOutsideAnswer { link_id: l() },
        M::WrongAnswerType {
            link_id: l(),
            kind: s("integer"),
            allowed: s("valueInteger"),
            found: s("String"),
        },
        M::NoOptionsOfType {
            link_id: l(),
            ty: s("Date"),
        },
        M::NotAnOption {
            value: s("4"),
            link_id: l(),
        },
        M::NoOptionsAtAll { link_id: l() },
        M::NoCode {
            link_id: l(),
            value_set: vs(),
        },
        M::NotInValueSet {
            code: s("http://example.org#blue"),
            value_set: vs(),
            link_id: l(),
        },
        M::ValueSetUnchecked {
            code: s("red"),
            value_set: vs(),
            why: s("value set not loaded"),
        },
    ]
    .map(Message::from)
    .to_vec()
}

fn has_japanese(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

fn bundle_examples() -> Vec<Message> {
    use BundleMessage as M;
    let reference = || s("urn:uuid:c0000000-0000-4000-8000-000000000001");
    [
        M::NoEntries {
            kind: s("document"),
            first: "Composition",
        },
        M::FullUrlMissing {
            kind: s("collection"),
        },
        M::FullUrlNotAbsolute {
            url: s("Patient/1"),
        },
        M::FullUrlWithoutId {
            url: s("https://example.org/fhir/Patient/1"),
            ty: s("Patient"),
            id: s("1"),
        },
        M::FullUrlDisagrees {
            url: s("https://example.org/fhir/Patient/1"),
            rt: s("Patient"),
            rid: s("2"),
        },
        M::SameResource {
            ty: s("Patient"),
            id: s("1"),
            first: 0,
            again: 1,
        },
        M::UrnUnresolved {
            reference: reference(),
            scheme: "urn:uuid:",
        },
        M::Unresolved {
            reference: s("Patient/1"),
            kind: s("document"),
        },
        M::WrongType {
            reference: s("Patient/2"),
            named: s("Patient"),
            actual: s("Group"),
            entry: 1,
        },
        M::NotInDocument {
            reference: reference(),
        },
        M::NotInMessage {
            reference: reference(),
        },
        M::Unreached {
            index: 4,
            full_url: Some(reference()),
            first: "Composition",
        },
    ]
    .into_iter()
    .map(Message::from)
    .collect()
}

#[test]
fn every_message_of_the_catalogue_has_japanese() {
    let all: Vec<Message> = [
        value_examples(),
        conformance_examples(),
        document_examples(),
        interaction_examples(),
        validation_examples(),
        request_and_service_examples(),
        bundle_examples(),
        questionnaire_examples(),
    ]
    .concat();
    let untranslated: Vec<String> = all
        .iter()
        .filter_map(|m| {
            let (en, ja) = (m.render(Language::English), m.render(Language::Japanese));
            (en.is_empty() || ja == en || !has_japanese(&ja)).then(|| format!("{m:?}: {ja}"))
        })
        .collect();
    assert!(
        untranslated.is_empty(),
        "no Japanese for:\n{}",
        untranslated.join("\n")
    );
}

#[test]
fn english_texts_stay_as_clients_and_tests_know_them() {
    let m = ValueMessage::Invalid(PrimitiveError::Calendar {
        value: s("2023-02-29"),
        ty: s("date"),
        why: CalendarError::NoSuchDay {
            year: 2023,
            month: 2,
            day: 29,
        },
    });
    assert_eq!(
        m.render(Language::English),
        "\"2023-02-29\" is not a valid date: 2023-02 has no day 29"
    );
    assert_eq!(
        m.render(Language::Japanese),
        "\"2023-02-29\" は date として正しくありません: 2023-02 に 29 日はありません"
    );
    let note = ConformanceMessage::ValidatedAgainstRelease {
        release: s("JP-CLINS 1.10.0"),
        url: s("urn:x"),
        version: s("1.10.0"),
        declared: Declared::NoVersion,
    };
    assert_eq!(
        note.render(Language::English),
        "validated against JP-CLINS 1.10.0: urn:x version 1.10.0 (no version declared)"
    );
    assert_eq!(
        note.render(Language::Japanese),
        "JP-CLINS 1.10.0 で検証しました: urn:x バージョン 1.10.0（バージョンの宣言なし）"
    );
}
