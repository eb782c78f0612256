-- Relay outbox rows encrypted at rest, as the log's own rows are (see EventCipher): the event key
-- is stored here only wrapped by a data protection key in the key backend. The event column grows
-- to hold the largest event (80,000 characters, up to 240,000 UTF-8 bytes) encrypted and
-- base64-encoded.
CREATE TABLE wrapped_keys (
  id         VARCHAR(40)  PRIMARY KEY,
  key_ref    VARCHAR(512) NOT NULL,
  wrapped    BYTEA        NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL
);

ALTER TABLE outbox ALTER COLUMN event SET DATA TYPE VARCHAR(400000);
