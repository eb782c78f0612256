-- The audit log: public entries and tiles, private events, signed checkpoints.
-- Portable between PostgreSQL and H2 (PostgreSQL mode).

CREATE TABLE tree_state (
  id    INT PRIMARY KEY,
  size  BIGINT NOT NULL
);
INSERT INTO tree_state (id, size) VALUES (1, 0);

-- Public: what the Merkle leaf hashes (a salted commitment, type and time; no personal data).
CREATE TABLE entries (
  idx        BIGINT PRIMARY KEY,
  leaf       BYTEA  NOT NULL,
  leaf_hash  BYTEA  NOT NULL
);

-- Private: the full event and its salt, released only in evidence bundles. Written in the same
-- transaction as its entry; no foreign key, whose per-row trigger would halve append throughput.
CREATE TABLE events (
  idx         BIGINT PRIMARY KEY,
  type        VARCHAR(64)  NOT NULL,
  actor       VARCHAR(512) NOT NULL,
  subject     VARCHAR(512) NOT NULL,
  event_time  TIMESTAMP WITH TIME ZONE NOT NULL,
  event       VARCHAR(70000) NOT NULL,
  salt        BYTEA NOT NULL
);
CREATE INDEX events_subject_time ON events (subject, event_time);
CREATE INDEX events_type_time ON events (type, event_time);

-- C2SP tiles: level L holds hashes of complete subtrees of height 8L, 256 to a tile.
-- A partial tile is rewritten as it grows; any prefix of it never changes.
CREATE TABLE tiles (
  level   SMALLINT NOT NULL,
  idx     BIGINT   NOT NULL,
  width   INT      NOT NULL,
  hashes  BYTEA    NOT NULL,
  PRIMARY KEY (level, idx)
);

CREATE TABLE checkpoints (
  size        BIGINT PRIMARY KEY,
  root        BYTEA NOT NULL,
  note        VARCHAR(8000) NOT NULL,
  created_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE cosignatures (
  size        BIGINT NOT NULL REFERENCES checkpoints (size),
  witness     VARCHAR(256) NOT NULL,
  line        VARCHAR(2048) NOT NULL,
  cosigned_at BIGINT NOT NULL,
  PRIMARY KEY (size, witness)
);
