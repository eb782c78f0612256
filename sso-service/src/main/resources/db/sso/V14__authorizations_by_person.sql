-- Authorizations and consents by person. Sign-out (BackChannelLogout), the account page's list of
-- apps with access and taking one's access away (ConnectedApps) look them up by principal_name,
-- which no index served: each scanned every live authorization of every person.
CREATE INDEX oauth2_authorization_principal
  ON oauth2_authorization (principal_name, registered_client_id);
CREATE INDEX oauth2_authorization_consent_principal
  ON oauth2_authorization_consent (principal_name);
