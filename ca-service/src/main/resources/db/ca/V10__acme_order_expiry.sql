-- Expired orders that issued nothing are deleted now and then (AcmeStore.purgeExpiredOrders):
-- found by their expiry, not by reading every order.
CREATE INDEX acme_orders_expiry ON acme_orders (expires_at);
