-- Signature activation data of the Cloud Signature Consortium API (credentials/authorize). A SAD
-- is handed to the client once and stored only as its SHA-256; it is bound to one seal, one caller
-- and, when the client named them, to the hashes it may sign (hex of the decoded digests, comma
-- separated); every signature spends one of its uses. Expiry is the database's clock, so nodes
-- whose clocks differ agree on it.
CREATE TABLE csc_activations (
  sad_sha256  VARCHAR(64)    PRIMARY KEY,
  seal_id     VARCHAR(64)    NOT NULL REFERENCES seals (id),
  actor       VARCHAR(256)   NOT NULL,
  hashes      VARCHAR(65536) NOT NULL,
  remaining   INTEGER        NOT NULL,
  expires_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX csc_activations_expiry ON csc_activations (expires_at);
