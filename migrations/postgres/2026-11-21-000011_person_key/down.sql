DROP FUNCTION kyoyu_readable_by(TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, BOOLEAN);
CREATE FUNCTION kyoyu_readable_by(
    p_category TEXT, p_hidden TEXT, p_patient TEXT, p_type TEXT, p_id TEXT,
    p_institution TEXT, p_at BIGINT, p_emergency BOOLEAN
) RETURNS BOOLEAN LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_patient TEXT;
BEGIN
    IF p_category IN ('A', 'B', 'other', 'patient', 'checkup', 'patient-summary')
       AND (p_hidden IS NULL OR p_hidden <> 'UNDELIVERED') THEN
        IF p_emergency THEN
            RETURN TRUE;
        END IF;
        v_patient := COALESCE(p_patient, (SELECT d.patient_id FROM documents d
            WHERE p_type = 'Bundle' AND d.bundle_id = p_id LIMIT 1));
        IF EXISTS (SELECT 1 FROM consents c WHERE c.patient_key = v_patient
                   AND c.institution = p_institution AND c.active
                   AND (c.category = p_category OR p_category NOT IN ('A', 'B'))
                   AND (c.period_start IS NULL OR c.period_start <= p_at)
                   AND (c.period_end IS NULL OR c.period_end > p_at)) THEN
            RETURN TRUE;
        END IF;
    END IF;
    -- The Patient record of a patient the institution itself submitted data about.
    IF p_category = 'patient' AND EXISTS (SELECT 1 FROM resources o WHERE o.patient_key = p_id
            AND o.access_category <> 'consent' AND o.institution = p_institution) THEN
        RETURN TRUE;
    END IF;
    IF p_category IN ('referral', 'discharge-summary') AND EXISTS (SELECT 1 FROM documents d
            WHERE d.bundle_id = p_id AND d.recipient = p_institution) THEN
        RETURN TRUE;
    END IF;
    RETURN FALSE;
END
$$;
DROP INDEX consents_person;
DROP INDEX resources_person;
ALTER TABLE consents DROP COLUMN person_key;
ALTER TABLE resources DROP COLUMN person_key;
