-- ACME nonces are authenticated with a key all nodes share (RFC 8555 §6.5): no row per nonce
-- handed out; acme_nonces now holds only nonces that were used, until they expire.

CREATE TABLE acme_secrets (
  name   VARCHAR(32) PRIMARY KEY,
  secret BYTEA       NOT NULL
);

DELETE FROM acme_nonces;
