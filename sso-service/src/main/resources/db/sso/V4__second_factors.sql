-- Second factors. A TOTP secret (RFC 6238) per account once its owner confirmed a code from it,
-- and the last time step a code was accepted for: a code is good once (a conditional UPDATE on
-- last_step, so two nodes cannot both accept it).
CREATE TABLE totp_credentials (
  username    VARCHAR(100) PRIMARY KEY REFERENCES accounts (username) ON DELETE CASCADE,
  secret      BYTEA        NOT NULL,
  last_step   BIGINT       NOT NULL,
  enrolled_at TIMESTAMP WITH TIME ZONE NOT NULL
);

-- One-use recovery codes, stored as SHA-256 of the code (they are random, 50 bits each).
CREATE TABLE recovery_codes (
  username  VARCHAR(100) NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
  code_hash BYTEA        NOT NULL,
  used_at   TIMESTAMP WITH TIME ZONE,
  PRIMARY KEY (username, code_hash)
);
