DROP TABLE audit_patients;
DROP TABLE audit_patients_recent;
CREATE INDEX audit_events_patient ON audit_events (patient_key);
CREATE INDEX audit_entities_patient ON audit_entities (patient_key);
