-- The index rows stay: an earlier server ignores them.
SELECT 1;
