-- The same tables as SQLite's migration of the same name, so a patient's history is one query on
-- both. PostgreSQL writes index pages at its checkpoints, not at every commit, so batching gains
-- nothing here: events go straight into audit_patients and audit_patients_recent stays empty.
DROP INDEX audit_events_patient;
DROP INDEX audit_entities_patient;

CREATE TABLE audit_patients_recent (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_key TEXT NOT NULL,
    event_id    TEXT NOT NULL
);

CREATE TABLE audit_patients (
    patient_key TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    PRIMARY KEY (patient_key, event_id)
);

INSERT INTO audit_patients (patient_key, event_id)
    SELECT patient_key, id FROM audit_events WHERE patient_key IS NOT NULL
    UNION
    SELECT patient_key, event_id FROM audit_entities WHERE patient_key IS NOT NULL
    ON CONFLICT DO NOTHING;
