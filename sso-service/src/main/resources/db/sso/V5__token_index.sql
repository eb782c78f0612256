-- Which authorization holds a token, by the token's SHA-256. The upstream JDBC service finds a
-- token by comparing it with seven unindexed TEXT columns of every authorization (a full scan, and
-- on H2 a read of every large value); with this, each lookup is two primary-key reads. Rows go with
-- their authorization.
CREATE TABLE token_index (
  token_sha256     VARCHAR(64)  PRIMARY KEY,
  authorization_id VARCHAR(100) NOT NULL REFERENCES oauth2_authorization (id) ON DELETE CASCADE
);
CREATE INDEX token_index_authorization ON token_index (authorization_id);
