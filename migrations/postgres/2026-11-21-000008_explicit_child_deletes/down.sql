ALTER TABLE resource_versions ADD CONSTRAINT resource_versions_rkey_fkey FOREIGN KEY (rkey) REFERENCES resources (rkey) ON DELETE CASCADE;
ALTER TABLE search_token ADD CONSTRAINT search_token_rkey_fkey FOREIGN KEY (rkey) REFERENCES resources (rkey) ON DELETE CASCADE;
ALTER TABLE search_string ADD CONSTRAINT search_string_rkey_fkey FOREIGN KEY (rkey) REFERENCES resources (rkey) ON DELETE CASCADE;
ALTER TABLE search_date ADD CONSTRAINT search_date_rkey_fkey FOREIGN KEY (rkey) REFERENCES resources (rkey) ON DELETE CASCADE;
ALTER TABLE search_reference ADD CONSTRAINT search_reference_rkey_fkey FOREIGN KEY (rkey) REFERENCES resources (rkey) ON DELETE CASCADE;
ALTER TABLE consents ADD CONSTRAINT consents_rkey_fkey FOREIGN KEY (rkey) REFERENCES resources (rkey) ON DELETE CASCADE;
