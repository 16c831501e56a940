ALTER TABLE search_quantity ADD COLUMN comp_system TEXT;
ALTER TABLE search_quantity ADD COLUMN comp_code TEXT;
CREATE INDEX search_quantity_component ON search_quantity (res_type, param, comp_code, value);
INSERT INTO search_quantity
        (rkey, res_type, param, system, code, value, canon_unit, canon_value, comp_system, comp_code)
    SELECT rkey, res_type, param, system, code, value, canon_unit, canon_value, comp_system, comp_code
    FROM search_quantity_pair;
DROP TABLE search_quantity_pair;
