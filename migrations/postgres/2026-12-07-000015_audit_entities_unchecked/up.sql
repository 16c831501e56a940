-- An audit entity row is only ever written by the statement batch that writes its event, in the
-- same transaction, and events are never deleted on PostgreSQL (only SQLite's clinical file
-- hands its trail on, and deletes entities first). The foreign key guarded nothing, but its
-- per-row trigger cost 18-30 µs a row: 5-8 ms of a 250-row purge batch, half the purge's time
-- in the 1M-row purge benchmark, and every audited read paid it per touched resource.
ALTER TABLE audit_entities DROP CONSTRAINT IF EXISTS audit_entities_event_id_fkey;
