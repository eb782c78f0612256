-- One counter of changes to registered clients: every change adds one in its own transaction, and
-- each node re-reads it (at most every half second) to know when its cached clients are stale.
CREATE TABLE client_generation (
  id         INT    NOT NULL,
  generation BIGINT NOT NULL,
  PRIMARY KEY (id)
);
INSERT INTO client_generation (id, generation) VALUES (1, 0);
