-- Imported terminology: the current import of each code system (one row per canonical URL,
-- replaced whole by a re-import) with its concepts, ValueSet resources as given, and a log of
-- every import. Times are microseconds since the Unix epoch (UTC).
CREATE TABLE code_systems (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url            TEXT    NOT NULL UNIQUE,
    version        TEXT,
    name           TEXT    NOT NULL,
    content        TEXT    NOT NULL,
    case_sensitive BOOLEAN NOT NULL,
    value_sets     TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    imported_at    BIGINT  NOT NULL,
    concept_count  BIGINT  NOT NULL
);

-- seq keeps the order of the source list (displays and expansions follow it).
CREATE TABLE code_system_concepts (
    system_id BIGINT NOT NULL REFERENCES code_systems (id) ON DELETE CASCADE,
    seq       BIGINT NOT NULL,
    code      TEXT   NOT NULL,
    display   TEXT,
    parent    TEXT,
    PRIMARY KEY (system_id, seq)
);

CREATE TABLE value_sets (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url         TEXT   NOT NULL UNIQUE,
    version     TEXT,
    source      TEXT   NOT NULL,
    imported_at BIGINT NOT NULL,
    content     TEXT   NOT NULL
);

CREATE TABLE terminology_imports (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT   NOT NULL,
    url           TEXT   NOT NULL,
    version       TEXT,
    source        TEXT   NOT NULL,
    imported_at   BIGINT NOT NULL,
    concept_count BIGINT NOT NULL
);
CREATE INDEX terminology_imports_url ON terminology_imports (url);
