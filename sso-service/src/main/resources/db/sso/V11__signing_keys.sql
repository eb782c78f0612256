-- The token signing keys (references into the key backend, never the keys): the active ones sign;
-- a retired one stays in the JWK set until publish_until, when every token it signed has expired.
CREATE TABLE signing_keys (
  key_ref       VARCHAR(300) PRIMARY KEY,
  state         VARCHAR(10)  NOT NULL,
  created_at    TIMESTAMP WITH TIME ZONE NOT NULL,
  retired_at    TIMESTAMP WITH TIME ZONE,
  publish_until TIMESTAMP WITH TIME ZONE
);
