DROP TABLE purged_resources;
DROP TABLE purge_runs;
DROP INDEX resources_retention_group;
ALTER TABLE resources DROP COLUMN retention_group;
