-- Refresh tokens that were exchanged for a new one (rotation), as SHA-256, with the authorization
-- (the token family) they belonged to: a spent token presented again revokes the family.
CREATE TABLE spent_refresh_tokens (
  token_sha256     VARCHAR(64)  PRIMARY KEY,
  authorization_id VARCHAR(100) NOT NULL,
  spent_at         TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX spent_refresh_tokens_spent_at ON spent_refresh_tokens (spent_at);
