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
    SELECT (i.value ->> 'system') || '|' || trim(i.value ->> 'value')
    FROM jsonb_array_elements(
        CASE WHEN jsonb_typeof(resources.content::jsonb -> 'identifier') = 'array'
             THEN resources.content::jsonb -> 'identifier' ELSE '[]'::jsonb END
    ) WITH ORDINALITY AS i(value, n)
    WHERE i.value ->> 'system' IN (
            'http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID',
            'http://jpfhir.jp/fhir/clins/Idsystem/JP_PublicPayer_memberID')
        AND trim(i.value ->> 'value') <> ''
    ORDER BY i.n LIMIT 1)
WHERE res_type = 'Patient' AND content IS NOT NULL;
-- Rows about a Patient: that Patient's person; document Bundles: their document's.
UPDATE resources r SET person_key = p.person_key
FROM resources p
WHERE r.res_type <> 'Patient' AND p.res_type = 'Patient' AND p.res_id = r.patient_key;
UPDATE resources r SET person_key = (
    SELECT d.patient_identifier FROM documents d WHERE d.bundle_id = r.res_id LIMIT 1)
WHERE r.res_type = 'Bundle' AND r.person_key IS NULL;
UPDATE consents c SET person_key = p.person_key
FROM resources p
WHERE p.res_type = 'Patient' AND p.res_id = c.patient_key;
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
UPDATE resources r SET institution = s.institution
FROM (
    SELECT patient_id, MIN(institution) AS institution FROM (
        SELECT institution, patient_id FROM report_units
        UNION SELECT institution, patient_id FROM documents) u
    GROUP BY patient_id HAVING COUNT(DISTINCT institution) = 1) s
WHERE r.res_type = 'Patient' AND r.institution IS NULL AND r.res_id = s.patient_id;

-- A patient's own view and a submission's lookup of its own Patient go by person; consents
-- are joined by person.
CREATE INDEX resources_person ON resources (person_key, res_type);
CREATE INDEX consents_person ON consents (person_key, institution);

-- Whether an institution may read a row it did not write (DESIGN §9); the same rule as the
-- inline condition of the access scope (src/store/access_sql.rs), which SQLite keeps, planned once
-- per session (see migration 000009). Now by person: another institution's data under that
-- person's consent or an emergency declaration, never a row whose person is unknown.
DROP FUNCTION kyoyu_readable_by(TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, BOOLEAN);
CREATE FUNCTION kyoyu_readable_by(
    p_category TEXT, p_hidden TEXT, p_person TEXT, p_owner TEXT, p_id TEXT,
    p_institution TEXT, p_at BIGINT, p_emergency BOOLEAN
) RETURNS BOOLEAN LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_person IS NOT NULL
       AND p_category IN ('A', 'B', 'other', 'patient', 'checkup', 'patient-summary')
       AND (p_hidden IS NULL OR p_hidden <> 'UNDELIVERED') THEN
        IF p_emergency THEN
            RETURN TRUE;
        END IF;
        IF EXISTS (SELECT 1 FROM consents c WHERE c.person_key = p_person
                   AND c.institution = p_institution AND c.active
                   AND (c.category = p_category OR p_category NOT IN ('A', 'B'))
                   AND (c.period_start IS NULL OR c.period_start <= p_at)
                   AND (c.period_end IS NULL OR c.period_end > p_at)) THEN
            RETURN TRUE;
        END IF;
    END IF;
    -- A Patient no institution owns (registered before Patients were kept per institution, named
    -- by several institutions' submissions): readable by those that submitted data about it.
    IF p_category = 'patient' AND p_owner IS NULL AND EXISTS (SELECT 1 FROM resources o
            WHERE o.patient_key = p_id AND o.access_category <> 'consent'
            AND o.institution = p_institution) THEN
        RETURN TRUE;
    END IF;
    IF p_category IN ('referral', 'discharge-summary') AND EXISTS (SELECT 1 FROM documents d
            WHERE d.bundle_id = p_id AND d.recipient = p_institution) THEN
        RETURN TRUE;
    END IF;
    RETURN FALSE;
END
$$;
