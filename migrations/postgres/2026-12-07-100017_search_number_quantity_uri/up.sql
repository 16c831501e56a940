-- Index tables of the number, quantity, uri and composite search parameters (issue #25).
-- Like the older index tables they hold the current version's rows only.

CREATE TABLE search_number (
    rkey     BIGINT NOT NULL,
    res_type TEXT   NOT NULL,
    param    TEXT   NOT NULL,
    value    DOUBLE PRECISION NOT NULL
);
CREATE INDEX search_number_rkey ON search_number (rkey);
CREATE INDEX search_number_lookup ON search_number (res_type, param, value);

-- A Quantity as written (system, code or unit) and, when its unit is a UCUM unit the server
-- understands, in base units: canon_unit names the base units' powers (e.g. 'g.m-3'),
-- canon_value the value in them, so 5.4 mg and 0.0054 g compare equal. A composite row
-- (code-value-quantity and the like) also carries the code of the same element.
CREATE TABLE search_quantity (
    rkey        BIGINT NOT NULL,
    res_type    TEXT   NOT NULL,
    param       TEXT   NOT NULL,
    system      TEXT,
    code        TEXT,
    value       DOUBLE PRECISION NOT NULL,
    canon_unit  TEXT,
    canon_value DOUBLE PRECISION,
    comp_system TEXT,
    comp_code   TEXT
);
CREATE INDEX search_quantity_rkey ON search_quantity (rkey);
CREATE INDEX search_quantity_lookup ON search_quantity (res_type, param, code, value);
CREATE INDEX search_quantity_canon ON search_quantity (res_type, param, canon_unit, canon_value);
CREATE INDEX search_quantity_component ON search_quantity (res_type, param, comp_code, value);

CREATE TABLE search_uri (
    rkey     BIGINT NOT NULL,
    res_type TEXT   NOT NULL,
    param    TEXT   NOT NULL,
    uri      TEXT   NOT NULL
);
CREATE INDEX search_uri_rkey ON search_uri (rkey);
CREATE INDEX search_uri_lookup ON search_uri (res_type, param, uri);

-- Composite parameters of two tokens of one element (code-value-concept and the like).
CREATE TABLE search_token_pair (
    rkey         BIGINT NOT NULL,
    res_type     TEXT   NOT NULL,
    param        TEXT   NOT NULL,
    system       TEXT,
    code         TEXT   NOT NULL,
    value_system TEXT,
    value_code   TEXT   NOT NULL
);
CREATE INDEX search_token_pair_rkey ON search_token_pair (rkey);
CREATE INDEX search_token_pair_lookup ON search_token_pair (res_type, param, code, value_code);

-- No foreign keys: the purge and delete paths remove child rows themselves (see
-- 2026-11-21-000008_explicit_child_deletes).

-- Which extraction the stored index rows come from. Resources stored before this migration
-- lack the rows of the parameters added with it; the server reindexes them at start-up (or
-- `kyoyu reindex`) and records the version it reached.
CREATE TABLE search_index_version (
    id      INTEGER NOT NULL PRIMARY KEY,
    version BIGINT  NOT NULL
);
INSERT INTO search_index_version (id, version) VALUES (1, 1);
