-- Current state of every resource: one row per (type, logical id), kept after a FHIR delete
-- (deleted = 1, content NULL) so that read answers 410 and history stays reachable.
-- Times are microseconds since the Unix epoch (UTC) on both backends.
CREATE TABLE resources (
    rkey            INTEGER PRIMARY KEY,
    res_type        TEXT    NOT NULL,
    res_id          TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    last_updated    BIGINT  NOT NULL,
    deleted         BOOLEAN NOT NULL DEFAULT 0,
    content         TEXT,
    institution     TEXT,
    patient_key     TEXT,
    retention_class TEXT,
    expires_at      BIGINT,
    UNIQUE (res_type, res_id)
);
CREATE INDEX resources_type_updated ON resources (res_type, last_updated);
CREATE INDEX resources_patient ON resources (patient_key);
CREATE INDEX resources_institution ON resources (institution);
CREATE INDEX resources_expires ON resources (expires_at) WHERE expires_at IS NOT NULL;

-- Every version, the current one included, for vread and _history.
CREATE TABLE resource_versions (
    rkey         BIGINT  NOT NULL REFERENCES resources (rkey) ON DELETE CASCADE,
    version      BIGINT  NOT NULL,
    res_type     TEXT    NOT NULL,
    res_id       TEXT    NOT NULL,
    last_updated BIGINT  NOT NULL,
    method       TEXT    NOT NULL,
    deleted      BOOLEAN NOT NULL,
    content      TEXT,
    PRIMARY KEY (rkey, version)
);
CREATE INDEX resource_versions_type_updated ON resource_versions (res_type, last_updated);
CREATE INDEX resource_versions_updated ON resource_versions (last_updated);

-- Search index rows of the current version only; replaced on every write.
CREATE TABLE search_token (
    rkey     BIGINT NOT NULL REFERENCES resources (rkey) ON DELETE CASCADE,
    res_type TEXT   NOT NULL,
    param    TEXT   NOT NULL,
    system   TEXT,
    code     TEXT   NOT NULL
);
CREATE INDEX search_token_rkey ON search_token (rkey);
CREATE INDEX search_token_lookup ON search_token (res_type, param, code, system);

CREATE TABLE search_string (
    rkey       BIGINT NOT NULL REFERENCES resources (rkey) ON DELETE CASCADE,
    res_type   TEXT   NOT NULL,
    param      TEXT   NOT NULL,
    normalized TEXT   NOT NULL,
    exact      TEXT   NOT NULL
);
CREATE INDEX search_string_rkey ON search_string (rkey);
CREATE INDEX search_string_lookup ON search_string (res_type, param, normalized);

CREATE TABLE search_date (
    rkey     BIGINT NOT NULL REFERENCES resources (rkey) ON DELETE CASCADE,
    res_type TEXT   NOT NULL,
    param    TEXT   NOT NULL,
    start_at BIGINT NOT NULL,
    end_at   BIGINT NOT NULL
);
CREATE INDEX search_date_rkey ON search_date (rkey);
CREATE INDEX search_date_start ON search_date (res_type, param, start_at);
CREATE INDEX search_date_end ON search_date (res_type, param, end_at);

CREATE TABLE search_reference (
    rkey        BIGINT NOT NULL REFERENCES resources (rkey) ON DELETE CASCADE,
    res_type    TEXT   NOT NULL,
    param       TEXT   NOT NULL,
    target_type TEXT   NOT NULL,
    target_id   TEXT   NOT NULL
);
CREATE INDEX search_reference_rkey ON search_reference (rkey);
CREATE INDEX search_reference_lookup ON search_reference (res_type, param, target_id, target_type);
