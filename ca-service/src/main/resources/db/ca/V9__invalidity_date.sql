-- RFC 5280 §5.3.2 invalidityDate: when the key is known or suspected to have been compromised
-- (or the certificate otherwise became invalid), which may be before the revocation itself.
-- Signatures and time-stamps made before it stay trustworthy; CRL entries and OCSP answers say it.
ALTER TABLE certificates ADD COLUMN invalidity_date TIMESTAMP WITH TIME ZONE;
ALTER TABLE revoked ADD COLUMN invalidity_date TIMESTAMP WITH TIME ZONE;
ALTER TABLE status_changes ADD COLUMN invalidity_date TIMESTAMP WITH TIME ZONE;
