-- Retention: the group a resource is ranked in for "the latest 3" (a lab's patient item, a
-- prescription's occasion), and the audit of purges: one row per run, one per purged resource
-- (type, id, rule, time; never clinical content).
ALTER TABLE resources ADD COLUMN retention_group TEXT;
CREATE INDEX resources_retention_group ON resources (patient_key, retention_class, retention_group)
    WHERE retention_group IS NOT NULL;

-- The purger finds the unit of a purged resource by the resource.
CREATE INDEX report_unit_members_resource ON report_unit_members (res_type, res_id);

CREATE TABLE purge_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT,
    as_of       BIGINT  NOT NULL,
    dry_run     BOOLEAN NOT NULL,
    counts      TEXT    NOT NULL
);

CREATE TABLE purged_resources (
    run_id    BIGINT NOT NULL,
    res_type  TEXT   NOT NULL,
    res_id    TEXT   NOT NULL,
    rule      TEXT   NOT NULL,
    purged_at BIGINT NOT NULL
);
CREATE INDEX purged_resources_run ON purged_resources (run_id);
