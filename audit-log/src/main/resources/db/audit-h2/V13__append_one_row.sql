-- PostgreSQL-only change (its append functions write the one row of V12); H2 keeps its schema.
SELECT 1;
