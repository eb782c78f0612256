-- What a full CRL saw of ca.status_changes: the highest sequence number visible to its transaction
-- and the lower ones that were not (taken, not yet committed). Its delta CRLs list every change
-- after that point by sequence, never by a clock, so a change stamped by a node whose clock is
-- behind, or committed late, is never left out.
ALTER TABLE crls ADD COLUMN snapshot_seq BIGINT;
ALTER TABLE crls ADD COLUMN snapshot_gaps VARCHAR(200000);
