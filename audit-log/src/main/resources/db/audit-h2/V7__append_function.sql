-- PostgreSQL gets a one-round-trip append function here; H2 (embedded, one process) keeps the
-- statement-by-statement path. This keeps migration versions the same on both databases.
SELECT 1;
