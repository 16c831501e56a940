-- The purger walks expired rows in (expires_at, rkey) order from a cursor: with rkey in the
-- index the walk reads only the batch it returns, not every row sharing the cursor's instant.
DROP INDEX resources_expires;
CREATE INDEX resources_expires ON resources (expires_at, rkey) WHERE expires_at IS NOT NULL;

-- A resource purged on its own leaves the documents it was extracted from, found by the resource.
CREATE INDEX document_members_resource ON document_members (res_type, res_id);
