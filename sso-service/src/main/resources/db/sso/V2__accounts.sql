-- People who sign in. The password is an Argon2id hash in its PHC string form (parameters and salt
-- inside); real-name attributes come in later migrations, encrypted at rest.
CREATE TABLE accounts (
  username      VARCHAR(100) PRIMARY KEY,
  password_hash VARCHAR(200) NOT NULL,
  display_name  VARCHAR(200) NOT NULL,
  enabled       BOOLEAN      NOT NULL,
  created_at    TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Failed sign-ins per account and per source address (keys 'account:<username>' and
-- 'source:<address>'), shared by every node: a key with too many failures in its window is
-- blocked until blocked_until.
CREATE TABLE login_failures (
  throttle_key  VARCHAR(300) PRIMARY KEY,
  failures      INTEGER      NOT NULL,
  window_start  TIMESTAMP WITH TIME ZONE NOT NULL,
  blocked_until TIMESTAMP WITH TIME ZONE
);
