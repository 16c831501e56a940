-- The quantity rows of a composite of a repeating element (component-code-value-quantity) move
-- to a table of their own. In one table every row was written to every index: a plain
-- quantity to the component index, a component's pair to the unit indexes, each a page
-- written with each commit. Now each row sits only in the indexes it is searched by.
CREATE TABLE search_quantity_pair (
    rkey        BIGINT NOT NULL REFERENCES resources (rkey) ON DELETE CASCADE,
    res_type    TEXT   NOT NULL,
    param       TEXT   NOT NULL,
    comp_system TEXT,
    comp_code   TEXT   NOT NULL,
    system      TEXT,
    code        TEXT,
    value       DOUBLE PRECISION NOT NULL,
    canon_unit  TEXT,
    canon_value DOUBLE PRECISION
);
CREATE INDEX search_quantity_pair_rkey ON search_quantity_pair (rkey);
CREATE INDEX search_quantity_pair_lookup ON search_quantity_pair (res_type, param, comp_code, value);

INSERT INTO search_quantity_pair
        (rkey, res_type, param, comp_system, comp_code, system, code, value, canon_unit, canon_value)
    SELECT rkey, res_type, param, comp_system, comp_code, system, code, value, canon_unit, canon_value
    FROM search_quantity WHERE comp_code IS NOT NULL;
DELETE FROM search_quantity WHERE comp_code IS NOT NULL;
DROP INDEX search_quantity_component;
ALTER TABLE search_quantity DROP COLUMN comp_system;
ALTER TABLE search_quantity DROP COLUMN comp_code;
