ALTER TABLE audit_entities ADD CONSTRAINT audit_entities_event_id_fkey
    FOREIGN KEY (event_id) REFERENCES audit_events (id) ON DELETE CASCADE;
