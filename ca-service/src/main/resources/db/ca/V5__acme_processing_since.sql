-- When an order started issuing, or a challenge started validating: a process that dies in the
-- middle leaves them 'processing'; any node puts them back after a while (AcmeStore.recoverInterrupted).
ALTER TABLE acme_orders ADD COLUMN processing_since TIMESTAMP WITH TIME ZONE;
ALTER TABLE acme_authzs ADD COLUMN processing_since TIMESTAMP WITH TIME ZONE;
