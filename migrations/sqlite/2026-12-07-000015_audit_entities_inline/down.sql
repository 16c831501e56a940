CREATE TABLE audit_entities (
    event_id    TEXT NOT NULL REFERENCES audit_events (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    res_type    TEXT NOT NULL,
    res_id      TEXT NOT NULL,
    patient_key TEXT,
    PRIMARY KEY (event_id, seq)
);

INSERT INTO audit_entities (event_id, seq, res_type, res_id, patient_key)
SELECT e.id, x.key, x.value ->> 0, x.value ->> 1, x.value ->> 2
  FROM audit_events e, json_each(e.entities) AS x
 WHERE e.entities IS NOT NULL;

ALTER TABLE audit_events DROP COLUMN entities;
