-- One row per entry. An append used to write two rows (audit.entries: the public leaf and its
-- hash; audit.events: the private event) and four index entries (both primary keys, and the
-- subject/time and type/time query indexes on events); a single durable INSERT of one row with
-- one primary key is what the naive log does, and it was a quarter faster than a lone append.
-- Now the leaf and its hash live in the event's row, audit.entries is a view of them (what the
-- tiles and proofs read, unchanged), and the query indexes live in audit.event_keys, which
-- LogStore.indexEvents fills from audit.events after the append was acknowledged (the checkpoint
-- job calls it). A query reads the indexed part there and the few newest rows not indexed yet
-- from audit.events itself (LogStore.events). Portable between PostgreSQL and H2.
ALTER TABLE events ADD COLUMN leaf BYTEA;
ALTER TABLE events ADD COLUMN leaf_hash BYTEA;
UPDATE events SET
  leaf = (SELECT e.leaf FROM entries e WHERE e.idx = events.idx),
  leaf_hash = (SELECT e.leaf_hash FROM entries e WHERE e.idx = events.idx);
ALTER TABLE events ALTER COLUMN leaf SET NOT NULL;
ALTER TABLE events ALTER COLUMN leaf_hash SET NOT NULL;

-- Derived from audit.events (its own copy of each row's type, subject and time), rebuilt from it
-- at any time; rows are added in index order, so the indexed entries are always [0, MAX(idx) + 1).
CREATE TABLE event_keys (
  idx         BIGINT PRIMARY KEY,
  type        VARCHAR(64)  NOT NULL,
  subject     VARCHAR(512) NOT NULL,
  event_time  TIMESTAMP WITH TIME ZONE NOT NULL
);
INSERT INTO event_keys (idx, type, subject, event_time)
  SELECT idx, type, subject, event_time FROM events;
CREATE INDEX event_keys_subject_time ON event_keys (subject, event_time);
CREATE INDEX event_keys_type_time ON event_keys (type, event_time);
DROP INDEX events_subject_time;
DROP INDEX events_type_time;

-- The public entries, as the tile and proof readers (and anyone mirroring the log) saw them.
DROP TABLE entries;
CREATE VIEW entries AS SELECT idx, leaf, leaf_hash FROM events;
