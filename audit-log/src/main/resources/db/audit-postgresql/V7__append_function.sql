-- One round trip for a batch of appends: the integrator computes indices and tile contents from
-- the tree size it last saw (it is the only writer on its node) and hands them over in arrays; the
-- function takes the tree's row lock, checks the size is still that one (another node may have
-- appended meanwhile: then it raises 40001 and the integrator takes the locked path), and writes
-- entries, events, tiles and the new size. Called with autocommit, so its commit is the
-- statement's: durable when it returns, like any commit on PostgreSQL.
CREATE FUNCTION append_entries(
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
  SELECT t.size INTO v_size FROM audit.tree_state t WHERE t.id = 1 FOR UPDATE;
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
  INSERT INTO audit.tiles (level, idx, width, hashes)
    SELECT l::smallint, i, w, h FROM unnest(p_tile_level, p_tile_idx, p_tile_width, p_tile_hash)
      AS u(l, i, w, h)
    ON CONFLICT (level, idx) DO UPDATE SET width = EXCLUDED.width, hashes = EXCLUDED.hashes;
  UPDATE audit.tree_state SET size = p_expected + cardinality(p_idx) WHERE id = 1;
END
$$;
