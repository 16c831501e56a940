DROP INDEX search_quantity_lookup;
DROP INDEX search_quantity_canon;
DROP INDEX search_quantity_component;
CREATE INDEX search_quantity_lookup ON search_quantity (res_type, param, code, value);
CREATE INDEX search_quantity_canon ON search_quantity (res_type, param, canon_unit, canon_value);
CREATE INDEX search_quantity_component ON search_quantity (res_type, param, comp_code, value);

-- The Observation combo-* rows deleted on the way up are not rebuilt: a server that reads
-- them again finds an Observation by a combo-* parameter once it is written anew.
