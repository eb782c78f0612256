-- Listing seals a page at a time (SealRegistry.page: creation order, then id) and the seals a
-- caller may use (SealRegistry.grantedTo, the CSC credentials/list): without these, each page of a
-- registry of many thousands of seals read the whole table.
CREATE INDEX seals_created ON seals (created_at, id);
CREATE INDEX seal_grants_grantee ON seal_grants (grantee, seal_id);
