-- Patient identity per institution (DESIGN §9). A Patient belongs to the institution that wrote
-- it; the person behind it is named by its member identifier (`system|value`, DESIGN §4), kept
-- as person_key on every patient-data row and consent, derived when the row is written from the
-- Patient it belongs to. Consented and emergency reads across institutions and a patient's own
-- view match by person, never by one Patient id that every institution's submissions share.
-- Every type in the FHIR R4 Patient compartment is patient data (access_category 'other' unless
-- a more specific category applies); only types outside it stay shared (NULL).
ALTER TABLE resources ADD COLUMN person_key TEXT;
ALTER TABLE consents ADD COLUMN person_key TEXT;

-- Existing rows. Patients: the person of their first member identifier.
UPDATE resources SET person_key = (
    SELECT json_extract(i.value, '$.system') || '|' || trim(json_extract(i.value, '$.value'))
    FROM json_each(resources.content, '$.identifier') i
    WHERE json_extract(i.value, '$.system') IN (
            'http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID',
            'http://jpfhir.jp/fhir/clins/Idsystem/JP_PublicPayer_memberID')
        AND trim(json_extract(i.value, '$.value')) <> ''
    ORDER BY i.key LIMIT 1)
WHERE res_type = 'Patient' AND content IS NOT NULL;
-- Rows about a Patient: that Patient's person; document Bundles: their document's.
UPDATE resources SET person_key = (
    SELECT p.person_key FROM resources p
    WHERE p.res_type = 'Patient' AND p.res_id = resources.patient_key)
WHERE res_type <> 'Patient' AND patient_key IS NOT NULL;
UPDATE resources SET person_key = (
    SELECT d.patient_identifier FROM documents d WHERE d.bundle_id = resources.res_id LIMIT 1)
WHERE res_type = 'Bundle' AND person_key IS NULL;
UPDATE consents SET person_key = (
    SELECT p.person_key FROM resources p
    WHERE p.res_type = 'Patient' AND p.res_id = consents.patient_key);
-- Types of the compartment stored before as "no patient data".
UPDATE resources SET access_category = 'other'
WHERE access_category IS NULL AND res_type IN (
    'Account', 'AdverseEvent', 'AllergyIntolerance', 'Appointment', 'AppointmentResponse',
    'AuditEvent', 'Basic', 'BodyStructure', 'CarePlan', 'CareTeam', 'ChargeItem', 'Claim',
    'ClaimResponse', 'ClinicalImpression', 'Communication', 'CommunicationRequest', 'Composition',
    'Condition', 'Consent', 'Coverage', 'CoverageEligibilityRequest',
    'CoverageEligibilityResponse', 'DetectedIssue', 'DeviceRequest', 'DeviceUseStatement',
    'DiagnosticReport', 'DocumentManifest', 'DocumentReference', 'Encounter', 'EnrollmentRequest',
    'EpisodeOfCare', 'ExplanationOfBenefit', 'FamilyMemberHistory', 'Flag', 'Goal', 'Group',
    'ImagingStudy', 'Immunization', 'ImmunizationEvaluation', 'ImmunizationRecommendation',
    'Invoice', 'List', 'MeasureReport', 'Media', 'MedicationAdministration', 'MedicationDispense',
    'MedicationRequest', 'MedicationStatement', 'MolecularSequence', 'NutritionOrder',
    'Observation', 'Patient', 'Person', 'Procedure', 'Provenance', 'QuestionnaireResponse',
    'RelatedPerson', 'RequestGroup', 'ResearchSubject', 'RiskAssessment', 'Schedule',
    'ServiceRequest', 'Specimen', 'SupplyDelivery', 'SupplyRequest', 'VisionPrescription');
-- Patients registered by submissions had no institution: each goes to the one institution whose
-- report units and documents name it (one that several named cannot be split; it stays as is).
UPDATE resources SET institution = (
    SELECT MIN(s.institution) FROM (
        SELECT institution, patient_id FROM report_units
        UNION SELECT institution, patient_id FROM documents) s
    WHERE s.patient_id = resources.res_id)
WHERE res_type = 'Patient' AND institution IS NULL AND 1 = (
    SELECT COUNT(DISTINCT s.institution) FROM (
        SELECT institution, patient_id FROM report_units
        UNION SELECT institution, patient_id FROM documents) s
    WHERE s.patient_id = resources.res_id);

-- A patient's own view and a submission's lookup of its own Patient go by person; consents
-- are joined by person.
CREATE INDEX resources_person ON resources (person_key, res_type);
CREATE INDEX consents_person ON consents (person_key, institution);
