-- External account binding (RFC 8555 §7.3.4): MAC keys the CA's operators hand out, so that
-- with yinxin.ca.acme.external-account-required only those they gave one may open an ACME
-- account. A key binds one account, once (account_id, used_at), and expires unused. The key is
-- kept here because verifying a MAC needs it (as the nonce key is): the database is the CA's.
CREATE TABLE acme_eab_keys (
  kid         VARCHAR(32)  PRIMARY KEY,
  hmac_key    BYTEA        NOT NULL,
  label       VARCHAR(200) NOT NULL,
  created_by  VARCHAR(128) NOT NULL,
  created_at  TIMESTAMP WITH TIME ZONE NOT NULL,
  expires_at  TIMESTAMP WITH TIME ZONE NOT NULL,
  account_id  VARCHAR(32),
  used_at     TIMESTAMP WITH TIME ZONE
);

ALTER TABLE acme_accounts ADD COLUMN eab_kid VARCHAR(32);
