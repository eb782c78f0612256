-- The account's orders list (RFC 8555 §7.1.2.1).
CREATE INDEX acme_orders_account ON acme_orders (account_id, created_at);
