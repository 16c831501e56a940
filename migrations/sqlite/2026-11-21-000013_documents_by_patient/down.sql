DROP INDEX documents_patient_id;
