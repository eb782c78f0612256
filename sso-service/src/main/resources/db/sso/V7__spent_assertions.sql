-- Client assertions (private_key_jwt, RFC 7523) already used, as SHA-256 of client id and jti,
-- until they expire: the same assertion presented twice is refused (upstream accepts it again).
CREATE TABLE spent_assertions (
  id_sha256  VARCHAR(64) PRIMARY KEY,
  expires_at TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX spent_assertions_expires ON spent_assertions (expires_at);
