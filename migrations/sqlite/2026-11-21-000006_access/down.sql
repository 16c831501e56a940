DROP TABLE audit_entities;
DROP TABLE audit_events;
DROP TABLE consents;
DROP INDEX report_units_bundle_id;
ALTER TABLE resources DROP COLUMN hidden;
ALTER TABLE resources DROP COLUMN access_category;
