-- SQLite keeps the audit trail in a database file of its own, beside the clinical one (see
-- src/store/audit_file.rs): in WAL mode a reader drops its whole page cache whenever its file
-- had any commit, so the commits that store read records every few milliseconds made every
-- clinical read start from a cold cache. The tables are those of the clinical file's trail
-- (migrations 000006 and 000010), which now only holds changes' records until they move here.
-- audit_entities is keyed by its primary key alone (no rowid): a search page's record writes
-- one entity row per resource listed, and a second B-tree per row doubled that work.
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

CREATE TABLE audit_entities (
    event_id    TEXT NOT NULL REFERENCES audit_events (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    res_type    TEXT NOT NULL,
    res_id      TEXT NOT NULL,
    patient_key TEXT,
    PRIMARY KEY (event_id, seq)
) WITHOUT ROWID;

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
