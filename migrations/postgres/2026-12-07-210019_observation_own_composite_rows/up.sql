-- Observation's code-value-quantity and code-value-concept pair the Observation's own code with
-- its own value, so they are searched in the rows of `code` and of `value-quantity` or
-- `value-concept` on the same resource (`search::composite`, `Parts::own`); their pair rows
-- are no longer written or read. A lab Observation wrote one per coding of its code, each in
-- three indexes with random keys.
DELETE FROM search_quantity
    WHERE res_type = 'Observation' AND param = 'code-value-quantity';
DELETE FROM search_token_pair
    WHERE res_type = 'Observation' AND param = 'code-value-concept';
