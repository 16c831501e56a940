DROP TABLE audit_patients;
DROP TABLE audit_patients_recent;
DROP TABLE audit_entities;
DROP TABLE audit_events;
