-- The hourly ACME limits (new accounts per address and per IPv6 /48, new orders and failed
-- validations per account) as token buckets every node shares. Each node used to keep its own, so
-- behind a load balancer with n nodes a client got n times each figure. A row is a bucket's tokens
-- when it was last written and that instant (milliseconds, the writing node's clock); version
-- makes each update a compare-and-set. An address is stored only as a keyed hash. Rows of buckets
-- that have filled up again are deleted (AcmeService.purge): no row is a full bucket.
CREATE TABLE acme_limit_buckets (
  kind     VARCHAR(20)      NOT NULL,
  who      VARCHAR(64)      NOT NULL,
  tokens   DOUBLE PRECISION NOT NULL,
  at_ms    BIGINT           NOT NULL,
  version  BIGINT           NOT NULL,
  PRIMARY KEY (kind, who)
);
CREATE INDEX acme_limit_buckets_at ON acme_limit_buckets (at_ms);
