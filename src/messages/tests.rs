//! The catalogue as a translator reads it: one example of every message, each of which must
//! say something in Japanese — not the English again, not an empty template.

use super::codes::{
    Blank, Breakdown, CodeField, CodeFinding, Coded, Embedded, Form, LocalIdFound, Lookalike,
    LookalikeHint, MetaMeaning, Part, Span, SyntaxFinding, SyntaxProblem,
};
use super::conformance::{Declared, Loaded};
use super::documents::{CdaOrStructured, Unchecked};
use super::markup::{AttributeProblem, Construct, NarrativeError, XmlProblem, XmlStructure};
use super::requests::Refusal;
use super::requests::{IncludeReason, JsonSyntax, SearchReason};
use super::service::FlagMisuse;
use super::values::{CalendarError, JsonKind, PrimitiveError};
use super::*;
use crate::clins::kinds::Kind;

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
    ];
    primitives.extend(
        narrative_examples()
            .into_iter()
            .map(PrimitiveError::Narrative),
    );
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
    out.extend(code_findings().into_iter().map(M::CodeFinding));
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
        M::AddresseeNumberInvalid {
            findings: vec![institution_finding()],
        },
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
        M::ReceiptInstitutionInvalid {
            findings: vec![institution_finding(), institution_finding()],
        },
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
        M::ReferenceNotFound {
            reference: s("Patient/1"),
        },
        M::ReferenceNotInBundle {
            reference: s("urn:uuid:1"),
        },
        M::ConditionalReferenceOutsideBundle {
            reference: s("Patient?identifier=a|1"),
        },
        M::ConditionalReferenceNone {
            reference: s("Patient?identifier=a|1"),
        },
        M::ConditionalReferenceSeveral {
            reference: s("Patient?identifier=a|1"),
        },
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
        M::NotInCompartment {
            res_type: s("Practitioner"),
        },
        M::EverythingUnknownType { res_type: s("Foo") },
        M::EverythingNotParameters,
        M::SystemSearchType {
            res_type: s("AuditEvent"),
        },
        M::SystemSearchParameter {
            param: s("code"),
            missing: s("Patient"),
        },
        M::SystemSearchDiffers {
            param: s("subject"),
        },
        M::SystemSearchChain {
            param: s("subject.name"),
        },
        M::HistoryAtApproximate { value: s("ap2024") },
        M::ExportNeedsRespondAsync,
        M::ExportOutputFormat { format: s("csv") },
        M::ExportParameterUnsupported {
            parameter: s("_typeFilter"),
        },
        M::ExportJobUnknown,
        M::CompartmentAuditTrail { patient: s("1") },
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
        M::IncludesCapped { limit: 1000 },
        M::NotAnInstant {
            parameter: "_since",
            value: s("2024-01-01"),
        },
    ]
    .into_iter()
    .map(Message::from)
    .collect()
}

fn patch_examples() -> Vec<Message> {
    use PatchMessage as M;
    [
        M::UpdateCriteriaSeveral {
            res_type: s("Patient"),
        },
        M::UpdateIdNotMatched {
            found: s("1"),
            matched: s("2"),
        },
        M::UpdateIdInUse {
            reference: s("Patient/1"),
        },
        M::NotAPatch {
            detail: s("expected an array"),
        },
        M::OperationFailed {
            index: 1,
            op: s("test"),
            path: s("/gender"),
            why: super::patch::PatchFailure::TestFailed,
        },
        M::OperationFailed {
            index: 0,
            op: s("remove"),
            path: s("/x"),
            why: super::patch::PatchFailure::BadPath,
        },
        M::OperationFailed {
            index: 0,
            op: s("move"),
            path: s("/x"),
            why: super::patch::PatchFailure::BadFrom,
        },
        M::OperationFailed {
            index: 0,
            op: s("move"),
            path: s("/x/y"),
            why: super::patch::PatchFailure::MoveIntoItself,
        },
        M::ChangesIdentity { element: "id" },
        M::PatchContentType {
            content_type: s("text/plain"),
        },
        M::EntryPatchNotBinary,
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
        RequestMessage::StoreLocked,
        RequestMessage::NotFound {
            reference: s("Patient/1"),
        },
        RequestMessage::UnsupportedType(s("Subscription")),
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
            ServiceMessage::BundleIdInvalid {
                findings: vec![institution_finding()],
            },
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
        M::EnableStateUnknown { link_id: l() },
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
        patch_examples(),
        validation_examples(),
        request_and_service_examples(),
        bundle_examples(),
        questionnaire_examples(),
        terminology_examples(),
        body_examples(),
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

fn xml_problems() -> Vec<XmlProblem> {
    use XmlProblem as P;
    let mut out = vec![
        P::BadMarkup,
        P::MissingEndTag { name: s("p") },
        P::UnmatchedEndTag { name: s("p") },
        P::MismatchedEndTag {
            expected: s("p"),
            found: s("P"),
        },
        P::DoubleHyphenInComment,
        P::DeclarationWithoutVersion,
        P::DoctypeWithoutName,
        P::UnknownEntity { name: s("nbsp") },
        P::UnterminatedReference,
        P::BadCharacterReference,
        P::CharacterNotAllowed { code: 0 },
        P::UnknownPrefix { prefix: s("x") },
        P::ReservedPrefix,
        P::NotUtf8,
        P::Unreadable,
    ];
    out.extend(
        [
            Construct::Tag,
            Construct::Comment,
            Construct::CData,
            Construct::Doctype,
            Construct::Instruction,
            Construct::Reference,
        ]
        .map(P::Unclosed),
    );
    out.extend(
        [
            AttributeProblem::NoEquals,
            AttributeProblem::NoValue,
            AttributeProblem::Unquoted,
            AttributeProblem::Unterminated { quote: '"' },
            AttributeProblem::Duplicated,
        ]
        .map(P::Attribute),
    );
    out
}

fn narrative_examples() -> Vec<NarrativeError> {
    use NarrativeError as N;
    let e = || s("p");
    let mut out: Vec<NarrativeError> = xml_problems().into_iter().map(N::Malformed).collect();
    out.extend([
        N::NotSingleDiv,
        N::TextOutsideDiv,
        N::NoDiv,
        N::RootNotDiv { name: e() },
        N::NotXhtml { name: e() },
        N::ElementNotAllowed { name: s("script") },
        N::BlockInParagraph {
            name: s("ul"),
            parent: s("span"),
        },
        N::Instruction,
        N::Doctype,
        N::NoContent,
        N::UndeclaredEntity { name: s("nbsp") },
        N::CharacterNotAllowed { reference: s("#0") },
        N::BadAttribute {
            element: e(),
            problem: XmlProblem::Attribute(AttributeProblem::Duplicated),
        },
        N::BadAttributeValue {
            element: s("span"),
            attribute: s("title"),
            problem: XmlProblem::UnknownEntity { name: s("nbsp") },
        },
        N::EventAttribute {
            element: e(),
            attribute: s("onclick"),
        },
        N::AttributeNotAllowed {
            element: e(),
            attribute: s("bgcolor"),
        },
        N::LinkScheme {
            element: s("a"),
            attribute: s("href"),
            scheme: s("javascript"),
        },
        N::ExternalImage {
            src: s("https://tracker.example/p.gif"),
        },
        N::StyleLoads {
            element: e(),
            found: "url(",
        },
    ]);
    out
}

fn institution_finding() -> SyntaxFinding {
    SyntaxFinding {
        subject: Coded::Institution,
        value: s("131123456"),
        problem: SyntaxProblem::LengthOf {
            pattern: "9999999999",
            found: 9,
        },
    }
}

fn syntax_problems() -> Vec<SyntaxProblem> {
    use SyntaxProblem as P;
    let q = |v: &str| format!("{v:?}");
    let span = Span {
        first: 16,
        last: 17,
    };
    let mut out = vec![
        P::FullWidth {
            found: '３', at: 1
        },
        P::Length {
            expected: 17,
            breakdown: Breakdown::Fields(vec![
                (CodeField::Analyte, 5),
                (CodeField::Identification, 4),
                (CodeField::Material, 3),
                (CodeField::Method, 3),
                (CodeField::Result, 2),
            ]),
            found: 15,
        },
        P::Length {
            expected: 15,
            breakdown: Breakdown::MetaAndCode {
                meta: s("YCM"),
                code: Embedded::Yj,
            },
            found: 14,
        },
        P::Length {
            expected: 12,
            breakdown: Breakdown::None,
            found: 1,
        },
        P::LengthOf {
            pattern: "99999999",
            found: 1,
        },
        P::CharacterOf {
            pattern: "XXXX",
            found: 'a',
            at: 2,
        },
        P::MetaCodeUnknown {
            expected: "J9F",
            dummy: "D9F000000000",
            found: q("X9F"),
        },
        P::MetaCodeOtherSystem {
            meta: s("D9M"),
            meaning: MetaMeaning::DrugDummy,
            belongs: vec!["urn:a", "urn:b"],
            system: "urn:c",
        },
        P::RootWithSuffix { meta: s("00F") },
        P::DummyOnly {
            meaning: MetaMeaning::FoodDummy,
            dummy: s("D9F000000000"),
        },
        P::CheckDigitNotDigit {
            within: Some(Embedded::Yj),
            at: 15,
            found: 'X',
        },
        P::CheckDigitWrong {
            within: None,
            found: '1',
            expected: '2',
        },
        P::NotClinsForm { found: 2 },
        P::Prefecture { found: s("48") },
        P::FeeTable { found: '4' },
        P::YearRange { found: q("2019") },
        P::LocalId(LocalIdFound::Length(0)),
        P::LocalId(LocalIdFound::Character { found: '_', at: 3 }),
        P::PartDigits {
            part: Part::InsurerNumber,
            digits: 8,
            found: q("123456"),
            padding: true,
        },
        P::PartEmptyOrDigits {
            part: Part::Branch,
            digits: 2,
            found: q("1"),
        },
        P::PartNotEmpty {
            part: Part::Symbol,
            found: q("x"),
        },
        P::PartEmpty {
            part: Part::LocalId,
        },
        P::AsClinsForm(Box::new(P::InstitutionPart {
            value: s("13112"),
            problem: Box::new(P::LengthOf {
                pattern: "9999999999",
                found: 5,
            }),
        })),
    ];
    for within in [None, Some(Embedded::Yj), Some(Embedded::GeneralName)] {
        out.push(P::Field {
            within,
            field: CodeField::Result,
            span,
            pattern: "99",
            found: q("0X"),
        });
    }
    for strict in [true, false] {
        out.push(P::Suffix {
            within: Some(Embedded::GeneralName),
            span: Span {
                first: 13,
                last: 15,
            },
            found: q("ZZA"),
            strict,
        });
    }
    for form in [Form::Clins, Form::InsuranceMember, Form::PublicPayerMember] {
        out.push(P::Parts { form, found: 1 });
    }
    for part in [
        Part::Year,
        Part::LocalId,
        Part::InsurerNumber,
        Part::Symbol,
        Part::Number,
        Part::Branch,
        Part::PayerNumber,
        Part::RecipientNumber,
    ] {
        out.push(P::PartDigits {
            part,
            digits: 4,
            found: q("x"),
            padding: false,
        });
    }
    for found in [
        Blank::Caret,
        Blank::Space,
        Blank::FullWidthSpace,
        Blank::Other(0x09),
    ] {
        out.push(P::PartBlank {
            part: Part::Number,
            found,
            value: q("a b"),
        });
    }
    for field in [
        CodeField::Analyte,
        CodeField::Identification,
        CodeField::Material,
        CodeField::Method,
        CodeField::MethodOrReagentKit,
        CodeField::Unit,
        CodeField::Category,
        CodeField::Number,
        CodeField::TherapeuticClass,
        CodeField::Ingredient,
        CodeField::DosageForm,
        CodeField::Strength,
        CodeField::Brand,
        CodeField::Code,
        CodeField::MetaCode,
    ] {
        out.push(P::Field {
            within: None,
            field,
            span: Span { first: 1, last: 1 },
            pattern: "9A999XX",
            found: q("x"),
        });
    }
    for meaning in [
        MetaMeaning::FoodAllergen,
        MetaMeaning::FoodDummy,
        MetaMeaning::FoodRoot,
        MetaMeaning::NonFoodAllergen,
        MetaMeaning::NonFoodDummy,
        MetaMeaning::NonFoodRoot,
        MetaMeaning::DrugByYj,
        MetaMeaning::DrugByGeneralName,
        MetaMeaning::DrugDummy,
    ] {
        out.push(P::DummyOnly {
            meaning,
            dummy: s("D9M000000000"),
        });
    }
    out
}

fn code_findings() -> Vec<CodeFinding> {
    use CodeFinding as F;
    let subjects = [
        Coded::Jlac10,
        Coded::Jlac11,
        Coded::Yj,
        Coded::GeneralName,
        Coded::Jfagy,
        Coded::DiseaseKeyNumber,
        Coded::DiseaseExchange,
        Coded::ModifierKeyNumber,
        Coded::ModifierExchange,
        Coded::ReceiptDisease,
        Coded::ReceiptModifier,
        Coded::BundleId,
        Coded::Institution,
        Coded::ResourceIdentifier,
        Coded::InsuranceMember,
        Coded::PublicPayerMember,
    ];
    let problems = syntax_problems();
    let first = problems[0].clone();
    // Every subject once, then every problem under one subject.
    let mut out: Vec<CodeFinding> = subjects
        .iter()
        .map(|&subject| (subject, first.clone()))
        .chain(problems.into_iter().map(|p| (Coded::Jlac10, p)))
        .map(|(subject, problem)| {
            F::Syntax(SyntaxFinding {
                subject,
                value: s("3A0150000023291"),
                problem,
            })
        })
        .collect();
    let hints = || {
        vec![LookalikeHint {
            listed: vec![
                Lookalike {
                    found: '⾎',
                    unified: Some('血'),
                },
                Lookalike {
                    found: '⺀',
                    unified: None,
                },
            ],
            more: 3,
        }]
    };
    let system = || s("http://jpfhir.jp/fhir/core/CodeSystem/x");
    for version in [None, Some(s("1.0.0"))] {
        out.push(F::NotInCodeSystem {
            code: s("X"),
            system: system(),
            version: version.clone(),
        });
        out.push(F::NotInFragment {
            code: s("X"),
            system: system(),
            version: version.clone(),
        });
        out.push(F::OtherEdition {
            asked: s("0.9"),
            system: system(),
            code: s("X"),
            checked: version,
        });
    }
    out.extend([
        F::DisplayOtherLanguage {
            given: s("外来"),
            code: s("AMB"),
            expected: s("ambulatory"),
        },
        F::DisplayLookalike {
            given: s("⾎糖"),
            code: s("1"),
            expected: s("血糖"),
            hints: hints(),
        },
        F::DisplayDiffers {
            given: s("血糖値"),
            code: s("1"),
            expected: s("血糖"),
            hints: vec![],
        },
        F::DisplayDiffers {
            given: s("⾎糖値"),
            code: s("1"),
            expected: s("血糖"),
            hints: hints(),
        },
    ]);
    out
}

/// The first run of three or more lower-case English words in `text`, between two Japanese
/// characters: a sentence, or a piece of one, left untranslated ("the narrative has no text").
pub(crate) fn english_sentence(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii()).find_map(|stretch| {
        let mut run: Vec<&str> = Vec::new();
        for token in stretch.split(' ') {
            let word = token.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '(' | ')'));
            if word.len() > 1 && word.chars().all(|c| c.is_ascii_lowercase() || c == '\'') {
                run.push(word);
                if run.len() >= 3 {
                    return Some(run.join(" "));
                }
            } else {
                run.clear();
            }
        }
        None
    })
}

/// Exhaustive on purpose: a new variant fails to compile here until it has an example.
fn narrative_kind(n: &NarrativeError) -> usize {
    use NarrativeError as N;
    match n {
        N::Malformed(_) => 0,
        N::NotSingleDiv => 1,
        N::TextOutsideDiv => 2,
        N::NoDiv => 3,
        N::RootNotDiv { .. } => 4,
        N::NotXhtml { .. } => 5,
        N::ElementNotAllowed { .. } => 6,
        N::BlockInParagraph { .. } => 7,
        N::Instruction => 8,
        N::Doctype => 9,
        N::NoContent => 10,
        N::UndeclaredEntity { .. } => 11,
        N::CharacterNotAllowed { .. } => 12,
        N::BadAttribute { .. } => 13,
        N::BadAttributeValue { .. } => 14,
        N::EventAttribute { .. } => 15,
        N::AttributeNotAllowed { .. } => 16,
        N::LinkScheme { .. } => 17,
        N::ExternalImage { .. } => 18,
        N::StyleLoads { .. } => 19,
    }
}

fn xml_kind(p: &XmlProblem) -> usize {
    use XmlProblem as P;
    match p {
        P::BadMarkup => 0,
        P::Unclosed(_) => 1,
        P::MissingEndTag { .. } => 2,
        P::UnmatchedEndTag { .. } => 3,
        P::MismatchedEndTag { .. } => 4,
        P::DoubleHyphenInComment => 5,
        P::DeclarationWithoutVersion => 6,
        P::DoctypeWithoutName => 7,
        P::Attribute(_) => 8,
        P::UnknownEntity { .. } => 9,
        P::UnterminatedReference => 10,
        P::BadCharacterReference => 11,
        P::CharacterNotAllowed { .. } => 12,
        P::UnknownPrefix { .. } => 13,
        P::ReservedPrefix => 14,
        P::NotUtf8 => 15,
        P::Unreadable => 16,
    }
}

fn syntax_kind(p: &SyntaxProblem) -> usize {
    use SyntaxProblem as P;
    match p {
        P::FullWidth { .. } => 0,
        P::Length { .. } => 1,
        P::LengthOf { .. } => 2,
        P::CharacterOf { .. } => 3,
        P::Field { .. } => 4,
        P::MetaCodeUnknown { .. } => 5,
        P::MetaCodeOtherSystem { .. } => 6,
        P::RootWithSuffix { .. } => 7,
        P::DummyOnly { .. } => 8,
        P::CheckDigitNotDigit { .. } => 9,
        P::CheckDigitWrong { .. } => 10,
        P::Suffix { .. } => 11,
        P::Parts { .. } => 12,
        P::NotClinsForm { .. } => 13,
        P::AsClinsForm(_) => 14,
        P::InstitutionPart { .. } => 15,
        P::Prefecture { .. } => 16,
        P::FeeTable { .. } => 17,
        P::YearRange { .. } => 18,
        P::LocalId(_) => 19,
        P::PartDigits { .. } => 20,
        P::PartEmptyOrDigits { .. } => 21,
        P::PartNotEmpty { .. } => 22,
        P::PartEmpty { .. } => 23,
        P::PartBlank { .. } => 24,
    }
}

fn code_finding_kind(f: &CodeFinding) -> usize {
    use CodeFinding as F;
    match f {
        F::Syntax(_) => 0,
        F::OtherEdition { .. } => 1,
        F::NotInCodeSystem { .. } => 2,
        F::NotInFragment { .. } => 3,
        F::DisplayOtherLanguage { .. } => 4,
        F::DisplayLookalike { .. } => 5,
        F::DisplayDiffers { .. } => 6,
    }
}

/// Every kind `kind` tells apart, from 0 to `count - 1`, has an example.
#[track_caller]
fn all_kinds<T>(examples: &[T], kind: impl Fn(&T) -> usize, count: usize) {
    let seen: std::collections::BTreeSet<usize> = examples.iter().map(kind).collect();
    let missing: Vec<usize> = (0..count).filter(|k| !seen.contains(k)).collect();
    assert!(missing.is_empty(), "no example of kinds {missing:?}");
}

#[test]
fn every_kind_of_narrative_and_code_finding_has_an_example() {
    all_kinds(&narrative_examples(), narrative_kind, 20);
    all_kinds(&xml_problems(), xml_kind, 17);
    let mut problems = syntax_problems();
    problems.push(SyntaxProblem::InstitutionPart {
        value: s("1"),
        problem: Box::new(SyntaxProblem::FeeTable { found: '4' }),
    });
    all_kinds(&problems, syntax_kind, 25);
    all_kinds(&code_findings(), code_finding_kind, 7);
}

#[test]
fn narrative_and_code_findings_are_japanese_throughout() {
    let mut texts: Vec<(String, String)> = Vec::new();
    for n in narrative_examples() {
        texts.push((format!("{n:?}"), n.render(Language::Japanese)));
    }
    for f in code_findings() {
        texts.push((format!("{f:?}"), f.render(Language::Japanese)));
    }
    for m in [
        Message::from(ServiceMessage::BundleIdInvalid {
            findings: vec![institution_finding()],
        }),
        Message::from(DocumentMessage::AddresseeNumberInvalid {
            findings: vec![institution_finding()],
        }),
    ] {
        texts.push((format!("{m:?}"), m.render(Language::Japanese)));
    }
    let english: Vec<String> = texts
        .iter()
        .filter_map(|(what, ja)| {
            let found = english_sentence(ja).or_else(|| (!has_japanese(ja)).then(|| s("-")))?;
            Some(format!("{what}\n  {ja}\n  ({found})"))
        })
        .collect();
    assert!(
        english.is_empty(),
        "English left in:\n{}",
        english.join("\n")
    );
    // The check would have caught the texts this catalogue replaced.
    assert!(
        english_sentence("ナラティブの XHTML が正しくありません（the narrative has no text）")
            .is_some()
    );
    assert!(
        english_sentence(
            "コード体系による検査の結果です（YJ code 1: the check digit must be a digit）"
        )
        .is_some()
    );
}

#[test]
fn narrative_and_code_findings_keep_their_english() {
    let missing = NarrativeError::Malformed(XmlProblem::MissingEndTag { name: s("div") });
    assert_eq!(
        missing.render(Language::English),
        "the narrative is not well-formed XML: <div> is never closed"
    );
    assert_eq!(
        missing.render(Language::Japanese),
        "ナラティブが整形式の XML になっていません: <div> が閉じられていません"
    );
    let field = SyntaxFinding {
        subject: Coded::Jlac10,
        value: s("3A01500000232910X"),
        problem: SyntaxProblem::Field {
            within: None,
            field: CodeField::Result,
            span: Span {
                first: 16,
                last: 17,
            },
            pattern: "99",
            found: s("\"0X\""),
        },
    };
    assert_eq!(
        field.render(Language::English),
        "JLAC10 code 3A01500000232910X: the result field (characters 16–17) must be 2 digits, found \"0X\""
    );
    assert_eq!(
        field.render(Language::Japanese),
        "JLAC10 コード 3A01500000232910X: 結果識別（16〜17 文字目）は数字 2 桁でなければなりませんが、\"0X\" です"
    );
    let analyte = SyntaxProblem::Field {
        within: Some(Embedded::Yj),
        field: CodeField::Analyte,
        span: Span { first: 4, last: 8 },
        pattern: "9A999",
        found: s("\"x\""),
    };
    assert_eq!(
        analyte.render(Language::English),
        "the YJ analyte field (characters 4–8) must be a digit, an uppercase letter and 3 digits, found \"x\""
    );
    assert_eq!(
        analyte.render(Language::Japanese),
        "YJ コードの分析物（4〜8 文字目）は数字 1 桁、英大文字 1 文字、数字 3 桁でなければなりませんが、\"x\" です"
    );
}

fn terminology_examples() -> Vec<Message> {
    use TerminologyMessage as M;
    let n = || s("count");
    let vs = || s("http://jpfhir.jp/fhir/core/ValueSet/x");
    let cs = || s("http://jpfhir.jp/fhir/core/CodeSystem/x");
    [
        M::NotParameters,
        M::ParameterWithoutName,
        M::GivenTwice { name: n() },
        M::NotAnInteger { name: n() },
        M::Negative { name: n() },
        M::NotText { name: s("url") },
        M::NotACoding { name: s("coding") },
        M::CodingInUrl { name: s("coding") },
        M::NotAConcept {
            name: s("codeableConcept"),
        },
        M::ConceptInUrl {
            name: s("codeableConcept"),
        },
        M::NotSupported {
            operation: "ValueSet/$expand",
            name: s("context"),
        },
        M::NeedsValueSet {
            operation: "ValueSet/$expand",
        },
        M::NoUrl { id: s("1") },
        M::CountTooLarge {
            count: 20000,
            max: 10000,
        },
        M::Incomplete {
            value_set: vs(),
            why: s("x"),
        },
        M::TooManyMembers {
            value_set: vs(),
            members: 20000,
            filtered: true,
            max: 10000,
        },
        M::TooManyMembers {
            value_set: vs(),
            members: 20000,
            filtered: false,
            max: 10000,
        },
        M::LookupCodeAndCoding,
        M::LookupCodingWithoutSystem,
        M::LookupCodingWithoutCode,
        M::LookupNeedsCode,
        M::LookupNeedsSystem,
        M::CodeSystemNotLoaded { system: cs() },
        M::CodeNotInSystem {
            code: s("X"),
            system: cs(),
        },
        M::CodeNotInLoadedPart {
            code: s("X"),
            system: cs(),
            why: s("x"),
        },
        M::VersionNotLoaded {
            asked: s("2"),
            system: cs(),
            loaded: s("1"),
        },
        M::ValidateOneForm,
        M::ValidateCodingWithoutCode,
        M::ValidateConceptWithoutCoding,
        M::ValidateNeedsCode,
        M::UrlAndSystemDiffer {
            url: cs(),
            system: s("urn:x"),
        },
        M::ValidateNeedsCodeSystem,
    ]
    .map(Message::from)
    .to_vec()
}

fn xml_structures() -> Vec<XmlStructure> {
    use XmlStructure as S;
    let name = || s("nickname");
    vec![
        S::NotUtf8Declared,
        S::TextOutsideNarrative,
        S::EndTagFirst,
        S::ContentAfterResource,
        S::EndsInsideElement,
        S::EndsInsideNarrative,
        S::NotAResourceType { name: s("Foo") },
        S::NotFhirNamespace { name: name() },
        S::UnknownElement {
            name: name(),
            context: s("Patient"),
        },
        S::AttributeAsElement { name: s("value") },
        S::Empty { name: s("active") },
        S::ContainerEmpty,
        S::ContainerSeveral,
        S::NarrativeNotXhtml,
        S::NarrativeNotUtf8,
        S::Attribute(XmlProblem::Attribute(AttributeProblem::Unquoted)),
        S::AttributeValue {
            name: s("value"),
            problem: XmlProblem::UnknownEntity { name: s("nbsp") },
        },
        S::UnexpectedAttribute { name: s("foo") },
        S::Repeated,
        S::OnlyOnce { name: s("active") },
        S::ModelUnavailable,
    ]
}

fn json_syntaxes() -> Vec<JsonSyntax> {
    [
        "EOF while parsing a list",
        "EOF while parsing an object",
        "EOF while parsing a string",
        "EOF while parsing a value",
        "expected `:`",
        "expected `,` or `]`",
        "expected `,` or `}`",
        "expected ident",
        "expected value",
        "expected `\"`",
        "invalid escape",
        "invalid number",
        "number out of range",
        "invalid unicode code point",
        "control character (\\u0000-\\u001F) found while parsing a string",
        "key must be a string",
        "lone leading surrogate in hex escape",
        "trailing comma",
        "trailing characters",
        "unexpected end of hex escape",
    ]
    .map(JsonSyntax::of)
    .to_vec()
}

/// The errors of an unreadable body, JSON and XML.
fn body_examples() -> Vec<Message> {
    use crate::fhir::json::ParseError;
    use crate::fhir::xml::XmlError;
    let mut out: Vec<Message> = json_syntaxes()
        .into_iter()
        .map(|problem| {
            RequestMessage::Json(ParseError::Syntax {
                problem,
                line: 1,
                column: 2,
            })
            .into()
        })
        .collect();
    out.extend(xml_problems().into_iter().map(|problem| {
        Message::from(RequestMessage::Xml(XmlError::Syntax {
            problem,
            line: 1,
            column: 2,
        }))
    }));
    out.extend(
        [
            SearchReason::NonNegativeInteger,
            SearchReason::TotalMode,
            SearchReason::SummaryMode,
            SearchReason::SummaryValue,
            SearchReason::CountOnRead,
            SearchReason::ElementName(s("name-x")),
            SearchReason::LowerBoundOnly,
            SearchReason::EmptyListItem,
            SearchReason::EmptySortKey,
        ]
        .map(|reason| {
            Message::from(RequestMessage::Search(crate::search::Error::InvalidValue {
                param: s("_count"),
                value: s("x"),
                reason,
            }))
        }),
    );
    out.extend(
        [
            IncludeReason::Form,
            IncludeReason::UnknownType(s("Nonsense")),
            IncludeReason::UnknownTarget(s("Nonsense")),
            IncludeReason::NotReference {
                res_type: s("Observation"),
                param: s("code"),
            },
            IncludeReason::NoReferences(s("Basic")),
            IncludeReason::TargetNotReferenced {
                param: s("patient"),
                target: s("Group"),
            },
        ]
        .map(|reason| {
            Message::from(RequestMessage::Search(crate::search::Error::Include {
                param: s("_include"),
                value: s("Observation:code"),
                reason,
            }))
        }),
    );
    out.extend(xml_structures().into_iter().map(|problem| {
        Message::from(RequestMessage::Xml(XmlError::Structure {
            problem,
            line: 1,
            column: 2,
        }))
    }));
    out
}

fn xml_structure_kind(s: &XmlStructure) -> usize {
    use XmlStructure as S;
    match s {
        S::NotUtf8Declared => 0,
        S::TextOutsideNarrative => 1,
        S::EndTagFirst => 2,
        S::ContentAfterResource => 3,
        S::EndsInsideElement => 4,
        S::EndsInsideNarrative => 5,
        S::NotAResourceType { .. } => 6,
        S::NotFhirNamespace { .. } => 7,
        S::UnknownElement { .. } => 8,
        S::AttributeAsElement { .. } => 9,
        S::Empty { .. } => 10,
        S::ContainerEmpty => 11,
        S::ContainerSeveral => 12,
        S::NarrativeNotXhtml => 13,
        S::NarrativeNotUtf8 => 14,
        S::Attribute(_) => 15,
        S::AttributeValue { .. } => 16,
        S::UnexpectedAttribute { .. } => 17,
        S::Repeated => 18,
        S::OnlyOnce { .. } => 19,
        S::ModelUnavailable => 20,
    }
}

#[test]
fn every_kind_of_body_error_has_an_example() {
    all_kinds(&xml_structures(), xml_structure_kind, 21);
    let syntaxes = json_syntaxes();
    assert!(
        !syntaxes.iter().any(|s| matches!(s, JsonSyntax::Other(_))),
        "{syntaxes:?}"
    );
    assert_eq!(syntaxes.len(), JsonSyntax::KNOWN.len());
    // A message the table does not know stays as the parser wrote it, in both languages.
    let other = JsonSyntax::of("something new");
    assert_eq!(other.render(Language::Japanese), "something new");
}

#[test]
fn terminology_refusals_and_body_errors_are_japanese_throughout() {
    let english: Vec<String> = [terminology_examples(), body_examples()]
        .concat()
        .iter()
        .filter_map(|m| {
            let ja = m.render(Language::Japanese);
            let found = english_sentence(&ja).or_else(|| (!has_japanese(&ja)).then(|| s("-")))?;
            Some(format!("{m:?}\n  {ja}\n  ({found})"))
        })
        .collect();
    assert!(
        english.is_empty(),
        "English left in:\n{}",
        english.join("\n")
    );
    // The parser's own English is kept for logs and English answers.
    let json = crate::fhir::json::ParseError::Syntax {
        problem: JsonSyntax::of("expected value"),
        line: 2,
        column: 12,
    };
    assert_eq!(
        json.to_string(),
        "malformed JSON at line 2, column 12: expected value"
    );
}
