-- Access (DESIGN §9). Per resource: the data category its reading rule depends on (A:
-- conditions + infections, B: allergies + labs + prescriptions, the document kinds, consent,
-- patient, other patient data; NULL: no patient in it) and the hiding flag of a condition
-- (UNDELIVERED, UNINFORMED). Consents are kept as rows the access predicate joins: one per
-- (Consent, category), with the patient, the institution granted and the period.
ALTER TABLE resources ADD COLUMN access_category TEXT;
ALTER TABLE resources ADD COLUMN hidden TEXT;

-- PUT and DELETE of Bundle/{id} look up whether the Bundle is a report unit's.
CREATE INDEX report_units_bundle_id ON report_units (bundle_id);

CREATE TABLE consents (
    rkey         BIGINT  NOT NULL REFERENCES resources (rkey) ON DELETE CASCADE,
    patient_key  TEXT    NOT NULL,
    institution  TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    active       BOOLEAN NOT NULL,
    period_start BIGINT,
    period_end   BIGINT,
    PRIMARY KEY (rkey, category)
);
CREATE INDEX consents_grant ON consents (patient_key, institution);

-- The audit trail, apart from clinical data: one event per request (who, what interaction,
-- outcome, emergency) with the resources it touched and each one's patient, so a patient's
-- access history is an indexed lookup. An event that touched one resource (most reads) names
-- it in its own row: one row, one patient index entry per read. Events that touched several
-- list them in audit_entities. Event ids are UUIDv7 of the recorded instant: new rows land at
-- the right edge of the key, and a time range is a key range (no index on `recorded`).
-- Retention never purges the trail.
CREATE TABLE audit_events (
    id          TEXT    NOT NULL PRIMARY KEY,
    recorded    BIGINT  NOT NULL,
    action      TEXT    NOT NULL,
    interaction TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    detail      TEXT,
    role        TEXT    NOT NULL,
    agent_name  TEXT    NOT NULL,
    institution TEXT,
    emergency   BOOLEAN NOT NULL,
    emergency_reason TEXT,
    emergency_method TEXT,
    res_type    TEXT,
    res_id      TEXT,
    entity_type TEXT,
    entity_id   TEXT,
    patient_key TEXT
) WITHOUT ROWID;
CREATE INDEX audit_events_patient ON audit_events (patient_key);

CREATE TABLE audit_entities (
    event_id    TEXT NOT NULL REFERENCES audit_events (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    res_type    TEXT NOT NULL,
    res_id      TEXT NOT NULL,
    patient_key TEXT,
    PRIMARY KEY (event_id, seq)
);
CREATE INDEX audit_entities_patient ON audit_entities (patient_key);
