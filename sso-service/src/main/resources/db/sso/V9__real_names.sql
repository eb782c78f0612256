-- Real-name identity of an account. The ID number and the phone number are stored only encrypted
-- under the data protection key in the key backend (bound to column and account), with a blind
-- index (HMAC-SHA256 under a key kept wrapped in wrapped_keys) for look-ups and uniqueness, and
-- the masked forms the realname scope releases. The legal name is stored as it is shown.
CREATE TABLE real_names (
  username         VARCHAR(100) PRIMARY KEY REFERENCES accounts (username) ON DELETE CASCADE,
  legal_name       VARCHAR(200) NOT NULL,
  id_number_sealed BYTEA,
  id_number_index  VARCHAR(64) UNIQUE,
  id_number_masked VARCHAR(18),
  phone_sealed     BYTEA,
  phone_index      VARCHAR(64),
  phone_masked     VARCHAR(11),
  verification     VARCHAR(20) NOT NULL,
  verified_at      TIMESTAMP WITH TIME ZONE NOT NULL,
  data_key         VARCHAR(300) NOT NULL
);
CREATE INDEX real_names_phone ON real_names (phone_index);

-- Keys this module keeps only wrapped (encrypted) by the data protection key.
CREATE TABLE wrapped_keys (
  name    VARCHAR(50) PRIMARY KEY,
  key_ref VARCHAR(300) NOT NULL,
  wrapped BYTEA NOT NULL
);
