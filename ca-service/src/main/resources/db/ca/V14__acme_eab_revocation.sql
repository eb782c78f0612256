-- An operator may take back an external account key (an agency that leaves, a key handed to the
-- wrong person): unspent, it binds nothing more; spent, the account it bound is deactivated.
ALTER TABLE acme_eab_keys ADD COLUMN revoked_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE acme_eab_keys ADD COLUMN revoked_by VARCHAR(128);
