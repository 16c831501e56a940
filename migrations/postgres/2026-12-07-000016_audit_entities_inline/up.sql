-- An event that touched several resources (a search page, a transaction, a purge batch) keeps
-- them in its own row, as a JSON array of [type, id, patient] in the order touched, instead of
-- one audit_entities row each. Nothing looks an event up by its entities (a patient's history
-- goes through the patient index), so the list is only ever read with its event; as rows, each
-- cost an index entry, and a purge batch's 250 of them were the whole of the purge's slowdown
-- against a purge that listed nothing (the 1M-row purge benchmark).
ALTER TABLE audit_events ADD COLUMN entities TEXT;

UPDATE audit_events e
   SET entities = (SELECT json_agg(json_build_array(a.res_type, a.res_id, a.patient_key)
                                   ORDER BY a.seq)::text
                     FROM audit_entities a WHERE a.event_id = e.id)
 WHERE EXISTS (SELECT 1 FROM audit_entities a WHERE a.event_id = e.id);

DROP TABLE audit_entities;
