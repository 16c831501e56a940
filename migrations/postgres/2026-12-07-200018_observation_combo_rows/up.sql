-- Observation's combo-* parameters are searched in the rows of their parts
-- (`search::unions`); their own rows are no longer written or read. Every index entry is a page
-- written with each commit, and an Observation wrote each code and value twice.
DELETE FROM search_token
    WHERE res_type = 'Observation' AND param IN ('combo-code', 'combo-value-concept');
DELETE FROM search_quantity
    WHERE res_type = 'Observation' AND param IN ('combo-value-quantity', 'combo-code-value-quantity');
DELETE FROM search_token_pair
    WHERE res_type = 'Observation' AND param = 'combo-code-value-concept';
