-- The seal registry: which key and certificate chain make a seal, how it looks, who may use it.
CREATE TABLE seals (
  id          VARCHAR(64)  PRIMARY KEY,
  name        VARCHAR(200) NOT NULL,
  sub_line    VARCHAR(100) NOT NULL,
  key_ref     VARCHAR(512) NOT NULL,
  algorithm   VARCHAR(32)  NOT NULL,
  chain_pem   VARCHAR(65536) NOT NULL,
  image       BYTEA,
  status      VARCHAR(16)  NOT NULL,
  created_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Who may use a seal: a token's subject or client id (or a configured caller's name).
CREATE TABLE seal_grants (
  seal_id  VARCHAR(64)  NOT NULL REFERENCES seals (id),
  grantee  VARCHAR(256) NOT NULL,
  PRIMARY KEY (seal_id, grantee)
);
