-- CLINS documents (referral, checkup report, patient summary; a discharge summary travels inside
-- its referral): one row per (sending institution, document identifier = Composition.identifier),
-- pointing at the stored Bundle. A cancelled document keeps its row (status 'cancelled', no
-- Bundle, no members) so that re-posting it undoes the cancel under the same Bundle id.
-- received_at/received_by record the addressee's first receipt of a referral: the retention of
-- referrals counts from it.
CREATE TABLE documents (
    document_key        TEXT   NOT NULL PRIMARY KEY,
    kind                TEXT   NOT NULL,
    institution         TEXT   NOT NULL,
    document_identifier TEXT   NOT NULL,
    version             TEXT   NOT NULL,
    status              TEXT   NOT NULL,
    bundle_identifier   TEXT   NOT NULL,
    bundle_id           TEXT   NOT NULL,
    patient_identifier  TEXT   NOT NULL,
    patient_id          TEXT   NOT NULL,
    recipient           TEXT,
    registered_at       BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    received_at         BIGINT,
    received_by         TEXT
);
CREATE INDEX documents_bundle_id ON documents (bundle_id);
CREATE INDEX documents_document_identifier ON documents (document_identifier);

-- The resources extracted from a document into the patient's record (conditions, allergies,
-- lab and infection results, prescriptions); they go when the document is replaced or cancelled.
CREATE TABLE document_members (
    document_key      TEXT NOT NULL REFERENCES documents (document_key) ON DELETE CASCADE,
    res_type          TEXT NOT NULL,
    res_id            TEXT NOT NULL,
    member_identifier TEXT,
    PRIMARY KEY (document_key, res_type, res_id)
);
