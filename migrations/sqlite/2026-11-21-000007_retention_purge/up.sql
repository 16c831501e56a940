-- The purger walks expired rows in (expires_at, rkey) order from a cursor: with rkey in the
-- index the walk reads only the batch it returns, not every row sharing the cursor's instant.
--
-- No partial indexes on resources: SQLite re-prepares every statement that binds a value
-- compared with a column of a table carrying an `IS NOT NULL` partial index (the bound value
-- might satisfy the index's condition), so one such index turns every cached read by id into
-- a fresh parse and plan. The full retention-group index also serves `patient_key` lookups.
DROP INDEX resources_expires;
CREATE INDEX resources_expires ON resources (expires_at, rkey);
DROP INDEX resources_retention_group;
CREATE INDEX resources_retention_group ON resources (patient_key, retention_class, retention_group);
DROP INDEX resources_patient;

-- A resource purged on its own leaves the documents it was extracted from, found by the resource.
CREATE INDEX document_members_resource ON document_members (res_type, res_id);
