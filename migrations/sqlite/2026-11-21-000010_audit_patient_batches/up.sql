-- A patient's access history used to be found through indexes on the patient columns of
-- audit_events and audit_entities. Every audited read then wrote its patient's leaf of that
-- index in its own commit: about one random page per read, most of what auditing a read cost.
-- Now an event's patients are appended to audit_patients_recent (in insertion order, so at the
-- right edge of its key), and the audit queue moves them about once a second into
-- audit_patients, sorted by patient: one page per patient per move instead of per read.
-- A patient's history reads both tables; an event is in exactly one of them.
DROP INDEX audit_events_patient;
DROP INDEX audit_entities_patient;

CREATE TABLE audit_patients_recent (
    seq         INTEGER PRIMARY KEY,
    patient_key TEXT NOT NULL,
    event_id    TEXT NOT NULL
);

CREATE TABLE audit_patients (
    patient_key TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    PRIMARY KEY (patient_key, event_id)
) WITHOUT ROWID;

INSERT OR IGNORE INTO audit_patients (patient_key, event_id)
    SELECT patient_key, id FROM audit_events WHERE patient_key IS NOT NULL
    UNION
    SELECT patient_key, event_id FROM audit_entities WHERE patient_key IS NOT NULL
    ORDER BY 1, 2;
