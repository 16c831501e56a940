DROP INDEX document_members_resource;
DROP INDEX resources_expires;
CREATE INDEX resources_expires ON resources (expires_at) WHERE expires_at IS NOT NULL;
