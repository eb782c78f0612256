-- ACME (RFC 8555): nonces, accounts, orders, authorizations (one http-01 challenge each).

CREATE TABLE acme_nonces (
  nonce      VARCHAR(64) PRIMARY KEY,
  expires_at TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX acme_nonces_expiry ON acme_nonces (expires_at);

CREATE TABLE acme_accounts (
  id         VARCHAR(32)   PRIMARY KEY,
  thumbprint VARCHAR(64)   NOT NULL UNIQUE,
  jwk        VARCHAR(8192) NOT NULL,
  status     VARCHAR(16)   NOT NULL,
  contact    VARCHAR(2048),
  created_at TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE acme_orders (
  id          VARCHAR(32)   PRIMARY KEY,
  account_id  VARCHAR(32)   NOT NULL,
  status      VARCHAR(16)   NOT NULL,
  identifiers VARCHAR(26000) NOT NULL,
  expires_at  TIMESTAMP WITH TIME ZONE NOT NULL,
  error       VARCHAR(2048),
  cert_issuer VARCHAR(64),
  cert_serial VARCHAR(64),
  created_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX acme_orders_cert ON acme_orders (cert_issuer, cert_serial);

CREATE TABLE acme_authzs (
  id               VARCHAR(32)  PRIMARY KEY,
  order_id         VARCHAR(32)  NOT NULL,
  account_id       VARCHAR(32)  NOT NULL,
  identifier       VARCHAR(253) NOT NULL,
  status           VARCHAR(16)  NOT NULL,
  token            VARCHAR(64)  NOT NULL,
  challenge_status VARCHAR(16)  NOT NULL,
  validated_at     TIMESTAMP WITH TIME ZONE,
  error            VARCHAR(2048),
  expires_at       TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX acme_authzs_order ON acme_authzs (order_id);
