DROP INDEX consents_person;
DROP INDEX resources_person;
ALTER TABLE consents DROP COLUMN person_key;
ALTER TABLE resources DROP COLUMN person_key;
