-- The revoked-key check asks for (key, status = 'R'): index both, so keys certified many times
-- do not cost a heap visit per certificate.
DROP INDEX certificates_key;
CREATE INDEX certificates_key_status ON certificates (key_sha256, status);
