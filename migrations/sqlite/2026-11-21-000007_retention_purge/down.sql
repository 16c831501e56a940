DROP INDEX document_members_resource;
CREATE INDEX resources_patient ON resources (patient_key);
DROP INDEX resources_retention_group;
CREATE INDEX resources_retention_group ON resources (patient_key, retention_class, retention_group)
    WHERE retention_group IS NOT NULL;
DROP INDEX resources_expires;
CREATE INDEX resources_expires ON resources (expires_at) WHERE expires_at IS NOT NULL;
