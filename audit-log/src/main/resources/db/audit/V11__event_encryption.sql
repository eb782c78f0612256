-- Event keys: the AES keys private event rows are encrypted under, each stored only wrapped by a
-- data protection key in the key backend (key_ref). Never deleted while a row may need one.
CREATE TABLE wrapped_keys (
  id          VARCHAR(40)  PRIMARY KEY,
  key_ref     VARCHAR(512) NOT NULL,
  wrapped     BYTEA        NOT NULL,
  created_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

-- An encrypted event is longer than the event (base64 of nonce, ciphertext and tag, and a
-- prefix): room for the largest event (64 KiB) in either form. Widening a VARCHAR rewrites no row.
ALTER TABLE events ALTER COLUMN event SET DATA TYPE VARCHAR(100000);
ALTER TABLE outbox ALTER COLUMN event SET DATA TYPE VARCHAR(100000);
