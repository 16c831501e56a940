ALTER TABLE resource_versions DROP COLUMN hidden;
ALTER TABLE resource_versions DROP COLUMN access_category;
ALTER TABLE resource_versions DROP COLUMN person_key;
ALTER TABLE resource_versions DROP COLUMN patient_key;
ALTER TABLE resource_versions DROP COLUMN institution;
