DROP TABLE purged_resources;
DROP TABLE purge_runs;
DROP INDEX report_unit_members_resource;
DROP INDEX resources_retention_group;
ALTER TABLE resources DROP COLUMN retention_group;
