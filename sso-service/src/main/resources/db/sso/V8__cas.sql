-- CAS 3.0 services (older agency portals): each service URL is registered, matched exactly, like a
-- client's redirect URI.
CREATE TABLE cas_services (
  service_id  VARCHAR(64)   PRIMARY KEY,
  service_url VARCHAR(2000) NOT NULL UNIQUE,
  name        VARCHAR(200)  NOT NULL,
  created_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Service tickets not yet validated, by SHA-256 of the ticket (the ticket itself is never stored).
-- A ticket is good once, for its service only, until expires_at by the database's clock (one clock
-- for every node).
CREATE TABLE cas_tickets (
  ticket_sha256 VARCHAR(64)   PRIMARY KEY,
  service_url   VARCHAR(2000) NOT NULL,
  username      VARCHAR(100)  NOT NULL,
  methods       VARCHAR(100)  NOT NULL,
  new_login     BOOLEAN       NOT NULL,
  auth_time     TIMESTAMP WITH TIME ZONE NOT NULL,
  expires_at    TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX cas_tickets_expires ON cas_tickets (expires_at);
