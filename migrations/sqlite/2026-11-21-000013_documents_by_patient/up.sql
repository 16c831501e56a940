-- A patient's document status lists the documents of their Patients: without this index every
-- request would read the whole documents table.
CREATE INDEX documents_patient_id ON documents (patient_id);
