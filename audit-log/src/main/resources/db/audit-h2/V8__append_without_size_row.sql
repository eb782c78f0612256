-- PostgreSQL-only change (append function, partial index); H2 keeps its schema.
SELECT 1;
