-- ACME Renewal Information (RFC 9773): an order may name the certificate it replaces
-- ("replaces", reflected in the order), and a certificate is replaced by one order at a time,
-- on every node: its row here names that order, and another order may take it over only once
-- that one is invalid (or expired, or purged).
ALTER TABLE acme_orders ADD COLUMN replaces VARCHAR(200);

CREATE TABLE acme_replacements (
  cert_issuer VARCHAR(64) NOT NULL,
  cert_serial VARCHAR(64) NOT NULL,
  order_id    VARCHAR(32) NOT NULL,
  PRIMARY KEY (cert_issuer, cert_serial)
);
