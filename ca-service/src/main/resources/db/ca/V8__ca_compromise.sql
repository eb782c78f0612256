-- Certificates re-issued by a replacement CA after their own CA was compromised (the emergency
-- procedure): which old certificate each new one replaces, so a re-run re-issues nothing twice.
CREATE TABLE reissued (
  issuer      VARCHAR(64) NOT NULL,
  serial      VARCHAR(64) NOT NULL,
  new_issuer  VARCHAR(64) NOT NULL,
  new_serial  VARCHAR(64) NOT NULL,
  reissued_at TIMESTAMP WITH TIME ZONE NOT NULL,
  PRIMARY KEY (issuer, serial)
);
