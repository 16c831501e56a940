CREATE TABLE audit_entities (
    event_id    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    res_type    TEXT NOT NULL,
    res_id      TEXT NOT NULL,
    patient_key TEXT,
    PRIMARY KEY (event_id, seq)
);

INSERT INTO audit_entities (event_id, seq, res_type, res_id, patient_key)
SELECT e.id, (x.n - 1)::int, x.v->>0, x.v->>1, x.v->>2
  FROM audit_events e, json_array_elements(e.entities::json) WITH ORDINALITY AS x(v, n)
 WHERE e.entities IS NOT NULL;

ALTER TABLE audit_events DROP COLUMN entities;
