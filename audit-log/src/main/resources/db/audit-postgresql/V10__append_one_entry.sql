-- A lone append (one entry, no tile completed) used to go through append_entries with fourteen
-- one-element arrays: the driver writes each array as text and the server parses it back, which
-- cost a lone append about as much as its whole insert. append_entry takes the one entry as plain
-- parameters (bytea sent in binary) and does the same as append_entries: the append lock
-- (LogStore.APPEND_LOCK_KEY), the check that the tree ends where the caller computed, the entry
-- and its private event, all in the caller's autocommit transaction.
CREATE FUNCTION append_entry(
    p_expected BIGINT,
    p_leaf     BYTEA,
    p_leaf_hash BYTEA,
    p_type     TEXT,
    p_actor    TEXT,
    p_subject  TEXT,
    p_time     TIMESTAMPTZ,
    p_event    TEXT,
    p_salt     BYTEA)
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(8748645214453788772);
  IF (SELECT COALESCE(MAX(e.idx) + 1, 0) FROM audit.entries e) <> p_expected THEN
    RAISE EXCEPTION 'audit tree does not have % entries', p_expected USING ERRCODE = '40001';
  END IF;
  INSERT INTO audit.entries (idx, leaf, leaf_hash) VALUES (p_expected, p_leaf, p_leaf_hash);
  INSERT INTO audit.events (idx, type, actor, subject, event_time, event, salt)
    VALUES (p_expected, p_type, p_actor, p_subject, p_time, p_event, p_salt);
END
$$;
