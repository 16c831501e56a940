-- The pair rows deleted on the way up are not rebuilt: a server that reads them again finds
-- an Observation by code-value-quantity or code-value-concept once it is written anew.
SELECT 1;
