-- Paired with PostgreSQL's migration of the same name, which drops the child tables' foreign
-- keys because PostgreSQL checks them with a trigger per deleted row. SQLite checks them inline
-- through the same rkey indexes at a fraction of that cost, and dropping a constraint here
-- means rebuilding six tables, so SQLite keeps its cascades as a second line of defence.
SELECT 1;
