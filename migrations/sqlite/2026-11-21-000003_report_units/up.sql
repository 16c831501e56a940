-- 6-information report units: one row per (patient member identifier, Bundle-ID), pointing at
-- the stored Bundle, and the clinical resources the unit registered. A re-send replaces the
-- unit's members; a member keeps its logical id across re-sends when its resource identifier
-- (resourceInstance-identifier) is the same, so an interim lab result becomes a new version.
CREATE TABLE report_units (
    unit_key           TEXT   NOT NULL PRIMARY KEY,
    patient_identifier TEXT   NOT NULL,
    bundle_identifier  TEXT   NOT NULL,
    institution        TEXT   NOT NULL,
    resource_type      TEXT   NOT NULL,
    bundle_id          TEXT   NOT NULL,
    patient_id         TEXT   NOT NULL,
    registered_at      BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX report_units_bundle_identifier ON report_units (bundle_identifier);

CREATE TABLE report_unit_members (
    unit_key          TEXT NOT NULL REFERENCES report_units (unit_key) ON DELETE CASCADE,
    res_type          TEXT NOT NULL,
    res_id            TEXT NOT NULL,
    member_identifier TEXT,
    PRIMARY KEY (unit_key, res_type, res_id)
);
