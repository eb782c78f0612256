-- The append functions write one row per entry into audit.events (V12), leaf and hash included;
-- the tree size is the highest index there plus one. Same signatures, same lock
-- (LogStore.APPEND_LOCK_KEY), same check that the tree ends where the caller computed.
CREATE OR REPLACE FUNCTION append_entries(
    p_expected   BIGINT,
    p_idx        BIGINT[],
    p_leaf       BYTEA[],
    p_leaf_hash  BYTEA[],
    p_type       TEXT[],
    p_actor      TEXT[],
    p_subject    TEXT[],
    p_time       TEXT[],
    p_event      TEXT[],
    p_salt       BYTEA[],
    p_tile_level INT[],
    p_tile_idx   BIGINT[],
    p_tile_width INT[],
    p_tile_hash  BYTEA[])
  RETURNS VOID
  LANGUAGE plpgsql
AS $$
DECLARE
  v_size BIGINT;
BEGIN
  PERFORM pg_advisory_xact_lock(8748645214453788772);
  SELECT COALESCE(MAX(v.idx) + 1, 0) INTO v_size FROM audit.events v;
  IF v_size <> p_expected THEN
    RAISE EXCEPTION 'audit tree has % entries, not %', v_size, p_expected
      USING ERRCODE = '40001';
  END IF;
  INSERT INTO audit.events (idx, leaf, leaf_hash, type, actor, subject, event_time, event, salt)
    SELECT i, l, h, ty, a, s, tm::timestamptz, e, sa
      FROM unnest(p_idx, p_leaf, p_leaf_hash, p_type, p_actor, p_subject, p_time, p_event, p_salt)
        AS u(i, l, h, ty, a, s, tm, e, sa);
  IF cardinality(p_tile_idx) > 0 THEN
    INSERT INTO audit.tiles (level, idx, width, hashes)
      SELECT l::smallint, i, w, h FROM unnest(p_tile_level, p_tile_idx, p_tile_width, p_tile_hash)
        AS u(l, i, w, h)
      ON CONFLICT (level, idx) DO UPDATE SET width = EXCLUDED.width, hashes = EXCLUDED.hashes;
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION append_entry(
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
  IF (SELECT COALESCE(MAX(v.idx) + 1, 0) FROM audit.events v) <> p_expected THEN
    RAISE EXCEPTION 'audit tree does not have % entries', p_expected USING ERRCODE = '40001';
  END IF;
  INSERT INTO audit.events (idx, leaf, leaf_hash, type, actor, subject, event_time, event, salt)
    VALUES (p_expected, p_leaf, p_leaf_hash, p_type, p_actor, p_subject, p_time, p_event, p_salt);
END
$$;
