-- Paired with PostgreSQL's migration of the same name, which moves the access rule for rows an
-- institution did not write into a function because its statements are planned per search
-- there. SQLite prepares and caches its statements, so it keeps the rule inline.
SELECT 1;
