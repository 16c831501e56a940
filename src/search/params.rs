//! The search parameters each resource type supports: name, kind and the element paths whose
//! values are indexed. Names and meanings follow the R4 SearchParameter definitions
//! (<https://hl7.org/fhir/R4/searchparameter-registry.html>); paths are written out per type, with
//! choice elements spelled per variant, because `extract` walks plain JSON and has no FHIRPath.

/// The search parameter types this server indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamKind {
    Token,
    String,
    Date,
    Reference,
    Number,
    Quantity,
    Uri,
    /// Two values of one element, `token$value` (see `search::composite`).
    Composite,
}

impl ParamKind {
    /// The FHIR `SearchParamType` code, for the CapabilityStatement.
    pub fn fhir_type(self) -> &'static str {
        match self {
            ParamKind::Token => "token",
            ParamKind::String => "string",
            ParamKind::Date => "date",
            ParamKind::Reference => "reference",
            ParamKind::Number => "number",
            ParamKind::Quantity => "quantity",
            ParamKind::Uri => "uri",
            ParamKind::Composite => "composite",
        }
    }
}

/// One search parameter of one resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamDef {
    pub name: &'static str,
    pub kind: ParamKind,
    /// Dot-separated element paths from the resource root; arrays are flattened at every step.
    pub paths: &'static [&'static str],
    /// For references: the resource types indexed and accepted. Empty means any type.
    pub targets: &'static [&'static str],
    pub description: &'static str,
}

/// The types with parameters of their own: those [`params_for`] knows.
pub const INDEXED_TYPES: &[&str] = &[
    "AllergyIntolerance",
    "AuditEvent",
    "Bundle",
    "Composition",
    "Condition",
    "Consent",
    "DocumentReference",
    "Encounter",
    "List",
    "MedicationRequest",
    "Observation",
    "Organization",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Questionnaire",
    "RiskAssessment",
    "Specimen",
];

/// The parameters of `resource_type`; empty for types without specific parameters (those can
/// still be searched by `_id` and `_lastUpdated`).
pub fn params_for(resource_type: &str) -> &'static [ParamDef] {
    match resource_type {
        "AllergyIntolerance" => ALLERGY_INTOLERANCE,
        "AuditEvent" => AUDIT_EVENT,
        "Bundle" => BUNDLE,
        "Composition" => COMPOSITION,
        "Condition" => CONDITION,
        "Consent" => CONSENT,
        "DocumentReference" => DOCUMENT_REFERENCE,
        "Encounter" => ENCOUNTER,
        "List" => LIST,
        "MedicationRequest" => MEDICATION_REQUEST,
        "Observation" => OBSERVATION,
        "Organization" => ORGANIZATION,
        "Patient" => PATIENT,
        "Practitioner" => PRACTITIONER,
        "PractitionerRole" => PRACTITIONER_ROLE,
        "Procedure" => PROCEDURE,
        "Questionnaire" => QUESTIONNAIRE,
        "RiskAssessment" => RISK_ASSESSMENT,
        "Specimen" => SPECIMEN,
        _ => &[],
    }
}

/// The parameter `name` of `resource_type`, if it has one.
pub fn param_def(resource_type: &str, name: &str) -> Option<&'static ParamDef> {
    params_for(resource_type).iter().find(|p| p.name == name)
}

/// The parameters every resource type has on `meta` (besides `_id` and `_lastUpdated`, which
/// are columns of the resource row): indexed for every type like its own parameters.
#[rustfmt::skip]
pub const META_PARAMS: &[ParamDef] = &[
    token("_tag", &["meta.tag"], "A tag of the resource"),
    token("_security", &["meta.security"], "A security label of the resource"),
    uri("_profile", &["meta.profile"], "A profile the resource claims to conform to"),
    uri("_source", &["meta.source"], "Where the resource comes from"),
];

/// The `meta` parameter `name`, if it is one.
pub fn meta_param(name: &str) -> Option<&'static ParamDef> {
    META_PARAMS.iter().find(|p| p.name == name)
}

const fn number(
    name: &'static str,
    paths: &'static [&'static str],
    description: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        kind: ParamKind::Number,
        paths,
        targets: &[],
        description,
    }
}

const fn quantity(
    name: &'static str,
    paths: &'static [&'static str],
    description: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        kind: ParamKind::Quantity,
        paths,
        targets: &[],
        description,
    }
}

const fn uri(
    name: &'static str,
    paths: &'static [&'static str],
    description: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        kind: ParamKind::Uri,
        paths,
        targets: &[],
        description,
    }
}

/// A composite parameter; `paths` are the elements whose parts are paired (see
/// `search::composite` for the parts).
const fn composite(
    name: &'static str,
    paths: &'static [&'static str],
    description: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        kind: ParamKind::Composite,
        paths,
        targets: &[],
        description,
    }
}

const fn token(
    name: &'static str,
    paths: &'static [&'static str],
    description: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        kind: ParamKind::Token,
        paths,
        targets: &[],
        description,
    }
}

const fn string(
    name: &'static str,
    paths: &'static [&'static str],
    description: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        kind: ParamKind::String,
        paths,
        targets: &[],
        description,
    }
}

const fn date(
    name: &'static str,
    paths: &'static [&'static str],
    description: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        kind: ParamKind::Date,
        paths,
        targets: &[],
        description,
    }
}

const fn reference(
    name: &'static str,
    paths: &'static [&'static str],
    targets: &'static [&'static str],
    description: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        kind: ParamKind::Reference,
        paths,
        targets,
        description,
    }
}

/// A parameter whose values no element path reaches (they need references resolved inside a
/// document): the code that stores the resource writes its index rows
/// ([`super::extract::index_computed`]); `extract` skips it.
const fn computed(
    name: &'static str,
    kind: ParamKind,
    targets: &'static [&'static str],
    description: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        kind,
        paths: &[],
        targets,
        description,
    }
}

/// `patient` on resources whose subject may be a patient: only Patient references are indexed.
const fn patient_via_subject() -> ParamDef {
    reference(
        "patient",
        &["subject"],
        PATIENT_ONLY,
        "The patient the resource is about",
    )
}

const PATIENT_ONLY: &[&str] = &["Patient"];
const ANY: &[&str] = &[];
const PEOPLE: &[&str] = &[
    "Practitioner",
    "PractitionerRole",
    "Patient",
    "RelatedPerson",
];
const AUTHORS: &[&str] = &[
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Device",
    "Patient",
    "RelatedPerson",
];
const ENCOUNTER_ONLY: &[&str] = &["Encounter"];
const CLINICIANS_OR_ORGANIZATION: &[&str] = &["Practitioner", "PractitionerRole", "Organization"];
const PARTIES: &[&str] = &[
    "Patient",
    "RelatedPerson",
    "Practitioner",
    "PractitionerRole",
    "Organization",
];
const CARE_PROVIDERS: &[&str] = &[
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "CareTeam",
    "Patient",
    "RelatedPerson",
];
const CARE_PROVIDERS_OR_DEVICE: &[&str] = &[
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "CareTeam",
    "Device",
    "Patient",
    "RelatedPerson",
];
const DERIVATION_SOURCES: &[&str] = &[
    "DocumentReference",
    "ImagingStudy",
    "Media",
    "QuestionnaireResponse",
    "Observation",
    "MolecularSequence",
];
const CONSENT_SOURCES: &[&str] = &[
    "Consent",
    "DocumentReference",
    "Contract",
    "QuestionnaireResponse",
];

#[rustfmt::skip]
const PATIENT: &[ParamDef] = &[
    token("identifier", &["identifier"], "A patient identifier, e.g. a medical record number"),
    string("name", &["name"], "Any part of a name: family, given, prefix, suffix or text"),
    string("family", &["name.family"], "The family name"),
    string("given", &["name.given"], "A given name"),
    date("birthdate", &["birthDate"], "The date of birth"),
    token("gender", &["gender"], "Administrative gender"),
    token("telecom", &["telecom"], "A phone number, email address or other contact point"),
    token("active", &["active"], "Whether the record is in active use"),
    string("address", &["address"], "Any part of an address"),
    string("address-postalcode", &["address.postalCode"], "The postal code of an address"),
    string("address-city", &["address.city"], "The city of an address"),
    string("address-state", &["address.state"], "The state or prefecture of an address"),
    date("death-date", &["deceasedDateTime"], "When the patient died"),
    reference("organization", &["managingOrganization"], &["Organization"],
        "The custodian organization"),
    reference("general-practitioner", &["generalPractitioner"], CLINICIANS_OR_ORGANIZATION,
        "The nominated primary care provider"),
];

#[rustfmt::skip]
const CONDITION: &[ParamDef] = &[
    token("identifier", &["identifier"], "A business identifier of the condition"),
    patient_via_subject(),
    reference("subject", &["subject"], &["Patient", "Group"], "Who has the condition"),
    token("code", &["code"], "The condition or diagnosis code"),
    token("category", &["category"], "The category, e.g. problem list item or encounter diagnosis"),
    token("clinical-status", &["clinicalStatus"], "Active, resolved, remission, …"),
    token("verification-status", &["verificationStatus"], "Confirmed, provisional, refuted, …"),
    token("severity", &["severity"], "How severe the condition is"),
    token("body-site", &["bodySite"], "Where the condition is located"),
    date("onset-date", &["onsetDateTime", "onsetPeriod"], "When the condition began"),
    date("abatement-date", &["abatementDateTime", "abatementPeriod"],
        "When the condition resolved"),
    date("recorded-date", &["recordedDate"], "When the condition was first recorded"),
    quantity("onset-age", &["onsetAge"], "The age at which the condition began"),
    quantity("abatement-age", &["abatementAge"], "The age at which the condition resolved"),
    reference("encounter", &["encounter"], ENCOUNTER_ONLY,
        "The encounter the condition was noted in"),
    reference("asserter", &["asserter"], PEOPLE, "Who asserts the condition"),
    reference("recorder", &["recorder"], PEOPLE, "Who recorded the condition"),
];

#[rustfmt::skip]
const ALLERGY_INTOLERANCE: &[ParamDef] = &[
    token("identifier", &["identifier"], "A business identifier of the record"),
    reference("patient", &["patient"], PATIENT_ONLY, "The patient with the allergy or intolerance"),
    token("code", &["code", "reaction.substance"],
        "The substance or product, or the reaction's substance"),
    token("category", &["category"], "food, medication, environment or biologic"),
    token("clinical-status", &["clinicalStatus"], "Active, inactive or resolved"),
    token("verification-status", &["verificationStatus"], "Unconfirmed, confirmed, refuted, …"),
    token("type", &["type"], "allergy or intolerance"),
    token("criticality", &["criticality"], "low, high or unable-to-assess"),
    token("manifestation", &["reaction.manifestation"], "A clinical sign of a reaction"),
    token("severity", &["reaction.severity"], "The severity of a reaction"),
    token("route", &["reaction.exposureRoute"], "How the patient was exposed"),
    date("date", &["recordedDate"], "When the record was first made"),
    date("onset", &["reaction.onset"], "When a reaction began"),
    date("last-date", &["lastOccurrence"], "When a reaction last occurred"),
    reference("recorder", &["recorder"], PEOPLE, "Who recorded the allergy"),
    reference("asserter", &["asserter"], PEOPLE, "Who is the source of the information"),
];

#[rustfmt::skip]
const OBSERVATION: &[ParamDef] = &[
    token("identifier", &["identifier"], "A business identifier of the observation"),
    patient_via_subject(),
    reference("subject", &["subject"], &["Patient", "Group", "Device", "Location"],
        "Who or what was observed"),
    token("code", &["code"], "What was observed, e.g. a laboratory test code"),
    token("category", &["category"], "The category, e.g. laboratory or vital-signs"),
    token("status", &["status"], "registered, preliminary, final, amended, …"),
    date("date", &["effectiveDateTime", "effectivePeriod", "effectiveInstant"],
        "When the observation applies (clinically relevant time)"),
    token("component-code", &["component.code"], "The code of a component"),
    token("combo-code", &["code", "component.code"],
        "The code of the observation or of a component"),
    token("value-concept", &["valueCodeableConcept"], "A coded result"),
    date("value-date", &["valueDateTime", "valuePeriod"], "A date or period result"),
    string("value-string", &["valueString", "valueCodeableConcept.text"], "A text result"),
    token("data-absent-reason", &["dataAbsentReason"], "Why the result is missing"),
    token("method", &["method"], "How the observation was made"),
    reference("specimen", &["specimen"], &["Specimen"], "The specimen used"),
    reference("encounter", &["encounter"], ENCOUNTER_ONLY,
        "The encounter the observation was made in"),
    reference("performer", &["performer"], CARE_PROVIDERS,
        "Who is responsible for the observation"),
    reference("has-member", &["hasMember"], &["Observation", "QuestionnaireResponse", "MolecularSequence"],
        "A member of a panel"),
    reference("derived-from", &["derivedFrom"], DERIVATION_SOURCES,
        "What the observation was derived from"),
    quantity("value-quantity", &["valueQuantity"], "A quantity result"),
    quantity("component-value-quantity", &["component.valueQuantity"],
        "The quantity result of a component"),
    quantity("combo-value-quantity", &["valueQuantity", "component.valueQuantity"],
        "A quantity result of the observation or of a component"),
    token("component-value-concept", &["component.valueCodeableConcept"],
        "The coded result of a component"),
    token("combo-value-concept", &["valueCodeableConcept", "component.valueCodeableConcept"],
        "A coded result of the observation or of a component"),
    composite("code-value-quantity", &["code", "valueQuantity"],
        "code$quantity: the observation's code and its quantity result"),
    composite("code-value-concept", &["code", "valueCodeableConcept"],
        "code$concept: the observation's code and its coded result"),
    composite("component-code-value-quantity", &["component.code", "component.valueQuantity"],
        "code$quantity of one component"),
    composite("component-code-value-concept",
        &["component.code", "component.valueCodeableConcept"],
        "code$concept of one component"),
    composite("combo-code-value-quantity",
        &["code", "valueQuantity", "component.code", "component.valueQuantity"],
        "code$quantity of the observation or of one component"),
    composite("combo-code-value-concept",
        &["code", "valueCodeableConcept", "component.code", "component.valueCodeableConcept"],
        "code$concept of the observation or of one component"),
];

#[rustfmt::skip]
const MEDICATION_REQUEST: &[ParamDef] = &[
    token("identifier", &["identifier"], "A business identifier of the prescription"),
    patient_via_subject(),
    reference("subject", &["subject"], &["Patient", "Group"], "Who the medication is for"),
    token("code", &["medicationCodeableConcept"], "The medication code"),
    reference("medication", &["medicationReference"], &["Medication"], "The medication resource"),
    token("category", &["category"], "The type of medication usage, e.g. inpatient or outpatient"),
    token("status", &["status"], "active, on-hold, cancelled, completed, …"),
    token("intent", &["intent"], "proposal, plan, order, …"),
    token("priority", &["priority"], "routine, urgent, asap or stat"),
    date("authoredon", &["authoredOn"], "When the prescription was written"),
    date("date", &["dosageInstruction.timing.event"], "A scheduled administration time"),
    reference("encounter", &["encounter"], ENCOUNTER_ONLY,
        "The encounter the prescription was written in"),
    reference("requester", &["requester"], AUTHORS, "Who wrote the prescription"),
    reference("intended-performer", &["performer"], CARE_PROVIDERS_OR_DEVICE,
        "Who is to administer the medication"),
    reference("intended-dispenser", &["dispenseRequest.performer"], &["Organization"],
        "Who is to dispense"),
];

#[rustfmt::skip]
const BUNDLE: &[ParamDef] = &[
    token("identifier", &["identifier"], "The persistent identifier of the bundle"),
    token("type", &["type"], "document, message, transaction, collection, …"),
    date("timestamp", &["timestamp"], "When the bundle was assembled"),
    computed("recipient", ParamKind::Token, &[],
        "Inbox of an institution: the active referral documents addressed to it, by the 10-digit \
         institution number of the Organization in Composition section 910 (紹介先情報), \
         e.g. recipient=1311234567 or \
         recipient=http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no|1311234567; \
         indexed when the referral is registered, removed when it is cancelled"),
    computed("patient", ParamKind::Reference, PATIENT_ONLY,
        "The patient of a CLINS submission (document or 6-information report unit), the Patient \
         found or created for its member identifier; indexed at registration"),
    computed("document-identifier", ParamKind::Token, &[],
        "The document identifier (文書ID, Composition.identifier) of a CLINS document"),
    computed("document-type", ParamKind::Token, &[],
        "The document type (Composition.type) of a CLINS document: 57133-1 referral, 53576-5 \
         checkup report, 56447-6 patient summary"),
    computed("document-date", ParamKind::Date, &[],
        "The date of a CLINS document (Composition.date), e.g. the day of a checkup report"),
    computed("insurer", ParamKind::Token, &[],
        "The insurers (保険者) of a checkup report, by 8-digit insurer number \
         (system http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber): the first part of its \
         patient's member identifier and the payor of its Coverage entries; indexed at \
         registration"),
];

#[rustfmt::skip]
const COMPOSITION: &[ParamDef] = &[
    token("identifier", &["identifier"], "The version-independent identifier of the document"),
    patient_via_subject(),
    reference("subject", &["subject"], ANY, "Who or what the document is about"),
    token("type", &["type"], "The kind of document, e.g. a referral letter or discharge summary"),
    token("category", &["category"], "The document category"),
    token("status", &["status"], "preliminary, final, amended or entered-in-error"),
    token("confidentiality", &["confidentiality"], "The confidentiality of the document"),
    date("date", &["date"], "When the document was last edited"),
    string("title", &["title"], "The document title"),
    reference("author", &["author"], AUTHORS, "Who wrote the document"),
    reference("attester", &["attester.party"], PARTIES, "Who attested the document"),
    reference("encounter", &["encounter"], ENCOUNTER_ONLY, "The encounter the document belongs to"),
    token("section", &["section.code"], "The code of a section"),
    reference("entry", &["section.entry"], ANY, "A resource referenced from a section"),
    token("context", &["event.code"], "The code of a documented event"),
    date("period", &["event.period"], "The period of a documented event"),
];

/// List: searchable so that `_list` can follow its `entry.item` references like a reverse
/// chain (`[type]?_list=id` is `[type]?_has:List:item:_id=id`), scope included.
#[rustfmt::skip]
const LIST: &[ParamDef] = &[
    token("identifier", &["identifier"], "Business identifier"),
    patient_via_subject(),
    reference("subject", &["subject"], &["Patient", "Group", "Device", "Location"],
        "If all resources have the same subject"),
    reference("item", &["entry.item"], ANY, "Actual entry"),
    token("code", &["code"], "What the purpose of this list is"),
    token("status", &["status"], "current, retired or entered-in-error"),
    string("title", &["title"], "Descriptive name for the list"),
    date("date", &["date"], "When the list was prepared"),
    reference("source", &["source"], &["Practitioner", "PractitionerRole", "Patient", "Device"],
        "Who and/or what defined the list contents (aka Author)"),
    reference("encounter", &["encounter"], ENCOUNTER_ONLY, "Context in which list created"),
];

/// Questionnaire: searchable by its canonical `url` (and `version`) above all, so that the
/// QuestionnaireResponses validated on a write find the stored form they answer with one indexed
/// query.
#[rustfmt::skip]
const QUESTIONNAIRE: &[ParamDef] = &[
    uri("url", &["url"], "The canonical identifier of the questionnaire"),
    token("version", &["version"], "The business version of the questionnaire"),
    token("identifier", &["identifier"], "External identifier for the questionnaire"),
    string("name", &["name"], "Computationally friendly name of the questionnaire"),
    string("title", &["title"], "The human-friendly name of the questionnaire"),
    token("status", &["status"], "draft, active, retired or unknown"),
    token("code", &["item.code"], "A code that corresponds to one of its items"),
    date("date", &["date"], "The questionnaire publication date"),
    date("effective", &["effectivePeriod"], "The time during which the questionnaire is intended to be in use"),
    string("publisher", &["publisher"], "Name of the publisher of the questionnaire"),
    string("description", &["description"], "The description of the questionnaire"),
    token("subject-type", &["subjectType"], "Resource that can be subject of QuestionnaireResponse"),
    uri("definition", &["item.definition"], "ElementDefinition - details for the item"),
    token("jurisdiction", &["jurisdiction"], "Intended jurisdiction for the questionnaire"),
    token("context", &["useContext.valueCodeableConcept"], "A use context assigned to the questionnaire"),
    token("context-type", &["useContext.code"], "A type of use context assigned to the questionnaire"),
    quantity("context-quantity", &["useContext.valueQuantity"],
        "A quantity- or range-valued use context assigned to the questionnaire"),
];

#[rustfmt::skip]
const DOCUMENT_REFERENCE: &[ParamDef] = &[
    token("identifier", &["masterIdentifier", "identifier"],
        "The master or another identifier of the document"),
    patient_via_subject(),
    reference("subject", &["subject"], &["Patient", "Practitioner", "Group", "Device"],
        "Who or what the document is about"),
    token("type", &["type"], "The kind of document"),
    token("category", &["category"], "The document category"),
    token("status", &["status"], "current, superseded or entered-in-error"),
    token("security-label", &["securityLabel"], "A security label of the document"),
    date("date", &["date"], "When the reference was created"),
    date("period", &["context.period"], "The period of service the document covers"),
    uri("location", &["content.attachment.url"], "Where the content can be found"),
    string("description", &["description"], "A human-readable description"),
    reference("author", &["author"], AUTHORS, "Who wrote the document"),
    reference("authenticator", &["authenticator"], CLINICIANS_OR_ORGANIZATION,
        "Who authenticated it"),
    reference("custodian", &["custodian"], &["Organization"],
        "The organization maintaining the document"),
    reference("encounter", &["context.encounter"], &["Encounter", "EpisodeOfCare"],
        "The encounter the document is about"),
    reference("relatesto", &["relatesTo.target"], &["DocumentReference"], "A related document"),
    token("relation", &["relatesTo.code"],
        "How a related document relates: replaces, transforms, …"),
    token("contenttype", &["content.attachment.contentType"], "The MIME type of the content"),
    token("format", &["content.format"], "The format of the content"),
    token("language", &["content.attachment.language"], "The language of the content"),
    token("event", &["context.event"], "A service or act documented"),
    token("facility", &["context.facilityType"], "The kind of facility"),
    token("setting", &["context.practiceSetting"], "The practice setting"),
];

#[rustfmt::skip]
const ENCOUNTER: &[ParamDef] = &[
    token("identifier", &["identifier"], "A business identifier of the encounter"),
    patient_via_subject(),
    reference("subject", &["subject"], &["Patient", "Group"], "The patient or group present"),
    token("status", &["status"], "planned, arrived, in-progress, finished, …"),
    token("class", &["class"], "The classification, e.g. inpatient or ambulatory"),
    token("type", &["type"], "The specific type of encounter"),
    token("reason-code", &["reasonCode"], "Why the encounter took place, as a code"),
    date("date", &["period"], "When the encounter took place"),
    quantity("length", &["length"], "How long the encounter lasted"),
    reference("participant", &["participant.individual"], &["Practitioner", "PractitionerRole", "RelatedPerson"],
        "Who took part"),
    reference("practitioner", &["participant.individual"], &["Practitioner"],
        "A practitioner who took part"),
    reference("service-provider", &["serviceProvider"], &["Organization"],
        "The organization responsible"),
    reference("location", &["location.location"], &["Location"], "Where the encounter took place"),
    reference("diagnosis", &["diagnosis.condition"], &["Condition", "Procedure"],
        "A diagnosis of the encounter"),
    reference("part-of", &["partOf"], ENCOUNTER_ONLY, "The encounter this one is part of"),
    reference("episode-of-care", &["episodeOfCare"], &["EpisodeOfCare"], "The episode of care"),
];

#[rustfmt::skip]
const PRACTITIONER: &[ParamDef] = &[
    token("identifier", &["identifier"], "A practitioner identifier, e.g. a license number"),
    string("name", &["name"], "Any part of a name"),
    string("family", &["name.family"], "The family name"),
    string("given", &["name.given"], "A given name"),
    token("active", &["active"], "Whether the record is in active use"),
    token("gender", &["gender"], "Administrative gender"),
    token("telecom", &["telecom"], "A contact point"),
    string("address", &["address"], "Any part of an address"),
    token("communication", &["communication"], "A language the practitioner speaks"),
];

#[rustfmt::skip]
const PRACTITIONER_ROLE: &[ParamDef] = &[
    token("identifier", &["identifier"], "A business identifier of the role"),
    reference("practitioner", &["practitioner"], &["Practitioner"], "The practitioner in the role"),
    reference("organization", &["organization"], &["Organization"], "The organization of the role"),
    token("role", &["code"], "The role the practitioner performs"),
    token("specialty", &["specialty"], "The practitioner's specialty"),
    token("active", &["active"], "Whether the role is in active use"),
    reference("location", &["location"], &["Location"], "Where the role is performed"),
];

#[rustfmt::skip]
const ORGANIZATION: &[ParamDef] = &[
    token("identifier", &["identifier"],
        "An organization identifier, e.g. a medical institution code"),
    string("name", &["name", "alias"], "The name or an alias"),
    token("active", &["active"], "Whether the record is in active use"),
    token("type", &["type"], "The kind of organization"),
    string("address", &["address"], "Any part of an address"),
    string("address-postalcode", &["address.postalCode"], "The postal code of an address"),
    reference("partof", &["partOf"], &["Organization"], "The organization this one is part of"),
];

#[rustfmt::skip]
const PROCEDURE: &[ParamDef] = &[
    token("identifier", &["identifier"], "A business identifier of the procedure"),
    patient_via_subject(),
    reference("subject", &["subject"], &["Patient", "Group"], "Who the procedure was performed on"),
    token("code", &["code"], "The procedure code"),
    token("category", &["category"], "The procedure category"),
    token("status", &["status"], "preparation, in-progress, completed, …"),
    date("date", &["performedDateTime", "performedPeriod"], "When the procedure was performed"),
    reference("encounter", &["encounter"], ENCOUNTER_ONLY,
        "The encounter the procedure was performed in"),
    uri("instantiates-uri", &["instantiatesUri"],
        "An external protocol or guideline the procedure follows"),
];

#[rustfmt::skip]
const RISK_ASSESSMENT: &[ParamDef] = &[
    token("identifier", &["identifier"], "A business identifier of the assessment"),
    patient_via_subject(),
    reference("subject", &["subject"], &["Patient", "Group"], "Who the assessment is about"),
    token("status", &["status"], "registered, preliminary, final, amended, …"),
    token("method", &["method"], "How the risk was evaluated"),
    token("risk", &["prediction.qualitativeRisk"], "The likelihood of the outcome, as a code"),
    number("probability", &["prediction.probabilityDecimal"],
        "The likelihood of the outcome, as a number"),
    date("date", &["occurrenceDateTime"], "When the assessment was made"),
    reference("encounter", &["encounter"], ENCOUNTER_ONLY,
        "The encounter the assessment was made in"),
    reference("condition", &["condition"], &["Condition"], "The condition assessed"),
];

#[rustfmt::skip]
const SPECIMEN: &[ParamDef] = &[
    token("identifier", &["identifier"], "A business identifier of the specimen"),
    token("accession", &["accessionIdentifier"],
        "The accession identifier given by the laboratory"),
    patient_via_subject(),
    reference("subject", &["subject"], &["Patient", "Group", "Device", "Substance", "Location"],
        "Where the specimen came from"),
    token("type", &["type"], "The kind of specimen"),
    token("status", &["status"], "available, unavailable, unsatisfactory or entered-in-error"),
    date("collected", &["collection.collectedDateTime", "collection.collectedPeriod"],
        "When the specimen was collected"),
    token("bodysite", &["collection.bodySite"], "Where on the body it was collected"),
    reference("collector", &["collection.collector"], &["Practitioner", "PractitionerRole"],
        "Who collected it"),
    reference("parent", &["parent"], &["Specimen"], "The specimen this one was derived from"),
    token("container", &["container.type"], "The kind of container"),
    token("container-id", &["container.identifier"], "The identifier of a container"),
];

#[rustfmt::skip]
const CONSENT: &[ParamDef] = &[
    token("identifier", &["identifier"], "An identifier of the consent"),
    reference("patient", &["patient"], PATIENT_ONLY, "Who the consent applies to"),
    token("status", &["status"], "draft, proposed, active, rejected, inactive or entered-in-error"),
    token("scope", &["scope"], "Which of the consent scopes applies"),
    token("category", &["category"], "The kind of consent"),
    date("date", &["dateTime"], "When the consent was given"),
    date("period", &["provision.period"], "When the consent is in force"),
    token("action", &["provision.action"], "An action the consent covers"),
    token("purpose", &["provision.purpose"], "A purpose of use the consent covers"),
    token("security-label", &["provision.securityLabel"], "A security label the consent covers"),
    reference("actor", &["provision.actor.reference"], ANY, "Who the provision applies to"),
    reference("data", &["provision.data.reference"], ANY, "A resource the provision is about"),
    reference("consentor", &["performer"], PARTIES, "Who gave the consent"),
    reference("organization", &["organization"], &["Organization"],
        "The organization that manages the consent"),
    reference("source-reference", &["sourceReference"], CONSENT_SOURCES,
        "The source document of the consent"),
];

#[rustfmt::skip]
const AUDIT_EVENT: &[ParamDef] = &[
    date("date", &["recorded"], "When the event was recorded"),
    token("type", &["type"], "The kind of event"),
    token("subtype", &["subtype"], "The more specific kind of event"),
    token("action", &["action"], "C, R, U, D or E"),
    token("outcome", &["outcome"], "Whether the event succeeded"),
    reference("agent", &["agent.who"], AUTHORS, "Who took part in the event"),
    string("agent-name", &["agent.name"], "The name of a participant"),
    token("agent-role", &["agent.role"], "The role of a participant"),
    token("altid", &["agent.altId"], "An alternative user id of a participant"),
    string("address", &["agent.network.address"], "The network address of a participant"),
    reference("entity", &["entity.what"], ANY, "A resource the event concerns"),
    string("entity-name", &["entity.name"], "The name of an entity"),
    token("entity-type", &["entity.type"], "The kind of an entity"),
    token("entity-role", &["entity.role"], "The role of an entity"),
    reference("patient", &["agent.who", "entity.what"], PATIENT_ONLY,
        "A patient who took part or was concerned"),
    reference("source", &["source.observer"], AUTHORS, "Who reported the event"),
    token("site", &["source.site"], "The site of the reporting source"),
];

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The only parameters indexed by the code that stores the resource, not by paths.
    const COMPUTED_BUNDLE: &[&str] = &[
        "recipient",
        "patient",
        "document-identifier",
        "document-type",
        "document-date",
        "insurer",
    ];

    #[test]
    fn every_table_is_well_formed() {
        for t in INDEXED_TYPES {
            let defs = params_for(t);
            assert!(!defs.is_empty(), "{t}");
            for (i, d) in defs.iter().enumerate() {
                let computed = *t == "Bundle" && COMPUTED_BUNDLE.contains(&d.name);
                assert_eq!(d.paths.is_empty(), computed, "{t}.{}", d.name);
                assert!(!d.description.is_empty(), "{t}.{}", d.name);
                assert!(!d.name.starts_with('_'), "{t}.{}", d.name);
                assert!(
                    defs[..i].iter().all(|e| e.name != d.name),
                    "{t}.{} twice",
                    d.name
                );
                if d.kind != ParamKind::Reference {
                    assert!(d.targets.is_empty(), "{t}.{}", d.name);
                }
            }
        }
    }

    #[test]
    fn patient_params_only_target_patients() {
        for t in INDEXED_TYPES {
            if let Some(d) = param_def(t, "patient") {
                assert_eq!(d.kind, ParamKind::Reference);
                assert_eq!(d.targets, ["Patient"], "{t}");
            }
        }
        assert!(
            param_def("Composition", "subject")
                .unwrap()
                .targets
                .is_empty()
        );
    }

    #[test]
    fn required_parameters_are_present() {
        let expect = [
            (
                "Patient",
                &[
                    "identifier",
                    "name",
                    "family",
                    "given",
                    "birthdate",
                    "gender",
                    "active",
                ][..],
            ),
            (
                "Condition",
                &[
                    "identifier",
                    "patient",
                    "subject",
                    "code",
                    "category",
                    "clinical-status",
                    "verification-status",
                    "onset-date",
                    "recorded-date",
                ],
            ),
            (
                "AllergyIntolerance",
                &[
                    "identifier",
                    "patient",
                    "code",
                    "category",
                    "clinical-status",
                    "verification-status",
                    "type",
                    "criticality",
                    "date",
                    "onset",
                ],
            ),
            (
                "Observation",
                &[
                    "identifier",
                    "patient",
                    "subject",
                    "code",
                    "category",
                    "status",
                    "date",
                ],
            ),
            (
                "MedicationRequest",
                &[
                    "identifier",
                    "patient",
                    "subject",
                    "code",
                    "category",
                    "status",
                    "intent",
                    "authoredon",
                ],
            ),
            ("Bundle", &["identifier", "type", "timestamp"]),
            (
                "Composition",
                &[
                    "identifier",
                    "patient",
                    "subject",
                    "type",
                    "category",
                    "status",
                    "date",
                    "title",
                ],
            ),
            (
                "DocumentReference",
                &[
                    "identifier",
                    "patient",
                    "subject",
                    "type",
                    "category",
                    "status",
                    "date",
                ],
            ),
            ("Organization", &["identifier", "name"]),
            ("Consent", &["patient", "status", "category", "date"]),
        ];
        for (t, names) in expect {
            for n in names {
                assert!(param_def(t, n).is_some(), "{t}.{n}");
            }
        }
        assert_eq!(
            param_def("Patient", "name").unwrap().kind,
            ParamKind::String
        );
        assert_eq!(param_def("Observation", "date").unwrap().paths.len(), 3);
    }

    #[test]
    fn unknown_types_have_no_parameters() {
        assert!(params_for("Basic").is_empty());
        assert!(params_for("patient").is_empty());
        assert!(param_def("Patient", "nonexistent").is_none());
    }

    #[test]
    fn fhir_type_codes() {
        assert_eq!(ParamKind::Token.fhir_type(), "token");
        assert_eq!(ParamKind::String.fhir_type(), "string");
        assert_eq!(ParamKind::Date.fhir_type(), "date");
        assert_eq!(ParamKind::Reference.fhir_type(), "reference");
        assert_eq!(ParamKind::Quantity.fhir_type(), "quantity");
        assert_eq!(ParamKind::Composite.fhir_type(), "composite");
    }
}
