-- RFC 3161 time-stamp replies over signed checkpoints (yinxin.audit.tsa-url): the log alone has no
-- trusted time. The reply is stored as the TSA sent it (DER TimeStampResp), so anyone can check it
-- with their own tools against the checkpoint text it covers.
CREATE TABLE checkpoint_timestamps (
  size      BIGINT PRIMARY KEY REFERENCES checkpoints (size),
  reply     BYTEA NOT NULL,
  gen_time  TIMESTAMP WITH TIME ZONE NOT NULL,
  tsa       VARCHAR(1024) NOT NULL
);
