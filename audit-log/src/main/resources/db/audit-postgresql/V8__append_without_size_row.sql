-- A lone append used to pay for two writes beside its entry: the row lock and update of
-- audit.tree_state, and the rewrite of the growing level-0 tile (up to 8 KiB). Both are gone:
-- appenders on every node are admitted one at a time by an advisory transaction lock (shared
-- memory, no WAL), the tree size is the highest index plus one (indices are gapless), and a
-- level-0 tile is written once, when it is full; its prefixes are read from audit.entries.
-- The function keeps its signature: the integrator passes only the tiles that changed.
-- audit.tree_state.size is no longer maintained (H2 still locks its row to admit appenders).
-- The lock key is LogStore.APPEND_LOCK_KEY.
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
  SELECT COALESCE(MAX(e.idx) + 1, 0) INTO v_size FROM audit.entries e;
  IF v_size <> p_expected THEN
    RAISE EXCEPTION 'audit tree has % entries, not %', v_size, p_expected
      USING ERRCODE = '40001';
  END IF;
  INSERT INTO audit.entries (idx, leaf, leaf_hash)
    SELECT * FROM unnest(p_idx, p_leaf, p_leaf_hash);
  INSERT INTO audit.events (idx, type, actor, subject, event_time, event, salt)
    SELECT i, ty, a, s, tm::timestamptz, e, sa
      FROM unnest(p_idx, p_type, p_actor, p_subject, p_time, p_event, p_salt)
        AS u(i, ty, a, s, tm, e, sa);
  IF cardinality(p_tile_idx) > 0 THEN
    INSERT INTO audit.tiles (level, idx, width, hashes)
      SELECT l::smallint, i, w, h FROM unnest(p_tile_level, p_tile_idx, p_tile_width, p_tile_hash)
        AS u(l, i, w, h)
      ON CONFLICT (level, idx) DO UPDATE SET width = EXCLUDED.width, hashes = EXCLUDED.hashes;
  END IF;
END
$$;

-- Only entries integrated from the outbox carry an outbox id: index those alone, so a direct
-- append does not pay for an index entry of NULL.
DROP INDEX events_outbox_id;
CREATE UNIQUE INDEX events_outbox_id ON events (outbox_id) WHERE outbox_id IS NOT NULL;

