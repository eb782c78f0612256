-- Nothing to tune on H2; this keeps migration versions the same on both databases.
SELECT 1;
