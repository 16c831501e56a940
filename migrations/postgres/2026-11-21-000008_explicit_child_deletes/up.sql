-- A resource's versions, index rows and consent rows are deleted by set before the resource
-- itself (Conn::purge_rkeys). PostgreSQL enforces a foreign key with a trigger per deleted
-- parent row and child table: six index probes per purged resource, three quarters of the
-- purge's delete time, and all of them find nothing once the children are gone. So the child
-- tables keep their rkey indexes but lose the constraints; the purge and delete paths remove
-- the children themselves, and the tests check that no child row outlives its resource.
ALTER TABLE resource_versions DROP CONSTRAINT resource_versions_rkey_fkey;
ALTER TABLE search_token DROP CONSTRAINT search_token_rkey_fkey;
ALTER TABLE search_string DROP CONSTRAINT search_string_rkey_fkey;
ALTER TABLE search_date DROP CONSTRAINT search_date_rkey_fkey;
ALTER TABLE search_reference DROP CONSTRAINT search_reference_rkey_fkey;
ALTER TABLE consents DROP CONSTRAINT consents_rkey_fkey;
