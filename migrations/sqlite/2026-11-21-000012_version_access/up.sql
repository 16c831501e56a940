-- Access facts per version (DESIGN §9): vread and _history apply the access rule to each
-- version's own writer, patient, person, category and hiding flag, so a Condition moved from one
-- patient to another by PUT never shows its earlier patient's version to the new one. A new
-- version copies them from its resource row as written. Versions written before this migration
-- take their resource's current facts: what vread and history checked until now.
ALTER TABLE resource_versions ADD COLUMN institution TEXT;
ALTER TABLE resource_versions ADD COLUMN patient_key TEXT;
ALTER TABLE resource_versions ADD COLUMN person_key TEXT;
ALTER TABLE resource_versions ADD COLUMN access_category TEXT;
ALTER TABLE resource_versions ADD COLUMN hidden TEXT;

UPDATE resource_versions SET (institution, patient_key, person_key, access_category, hidden) =
    (SELECT r.institution, r.patient_key, r.person_key, r.access_category, r.hidden
     FROM resources r WHERE r.rkey = resource_versions.rkey);
