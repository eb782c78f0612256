-- The keys that have signed this log's checkpoints: the active one (retired_at NULL) and those it
-- replaced, each with its note verifier key, from which tree size it signed, and, for a key
-- replaced because it was compromised, the time from which its signatures are not trusted. Old
-- checkpoints stay verifiable with the key that signed them; the table, not the configuration,
-- names the active key once a key has been rotated.
CREATE TABLE checkpoint_keys (
  vkey            VARCHAR(512) PRIMARY KEY,
  key_ref         VARCHAR(512) NOT NULL,
  first_size      BIGINT       NOT NULL,
  activated_at    TIMESTAMP WITH TIME ZONE NOT NULL,
  retired_at      TIMESTAMP WITH TIME ZONE,
  distrusted_from TIMESTAMP WITH TIME ZONE
);
