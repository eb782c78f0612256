-- Appends that carry an Idempotency-Key (a relay forwarding another database's outbox) are
-- recorded once per key: the key names the outbox row that holds or held the event, whose entry
-- events.outbox_id finds. Never deleted, like the entries themselves.
CREATE TABLE idempotency_keys (
  idem_key  VARCHAR(80) PRIMARY KEY,
  outbox_id BIGINT      NOT NULL
);
