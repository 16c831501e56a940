-- A quantity row is either a plain quantity (comp_code NULL) or the quantity of a composite
-- (code-value-quantity and the like, comp_code set), and each kind is looked up by its own
-- columns only. Partial indexes keep each row in the indexes of its kind: every index entry
-- costs a page write per commit, and an Observation writes several of each kind.

DROP INDEX search_quantity_lookup;
DROP INDEX search_quantity_canon;
DROP INDEX search_quantity_component;
CREATE INDEX search_quantity_lookup ON search_quantity (res_type, param, code, value)
    WHERE comp_code IS NULL;
CREATE INDEX search_quantity_canon ON search_quantity (res_type, param, canon_unit, canon_value)
    WHERE comp_code IS NULL;
CREATE INDEX search_quantity_component ON search_quantity (res_type, param, comp_code, value)
    WHERE comp_code IS NOT NULL;

-- Observation's combo-* parameters are searched in the rows of their parts
-- (`search::unions`); their own rows are no longer written or read.
DELETE FROM search_token
    WHERE res_type = 'Observation' AND param IN ('combo-code', 'combo-value-concept');
DELETE FROM search_quantity
    WHERE res_type = 'Observation' AND param IN ('combo-value-quantity', 'combo-code-value-quantity');
DELETE FROM search_token_pair
    WHERE res_type = 'Observation' AND param = 'combo-code-value-concept';
