DROP TABLE audit_patients;
DROP TABLE audit_patients_recent;
CREATE INDEX audit_events_patient ON audit_events (patient_key) WHERE patient_key IS NOT NULL;
CREATE INDEX audit_entities_patient ON audit_entities (patient_key) WHERE patient_key IS NOT NULL;
