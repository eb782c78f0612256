-- Spring Security's OAuth2 Authorization Server tables (its JDBC RegisteredClientRepository,
-- OAuth2AuthorizationService and OAuth2AuthorizationConsentService), as its schema files give them,
-- with the changes they ask for on PostgreSQL: text instead of blob, timestamptz instead of
-- timestamp. H2 (the embedded default) reads both the same way.
CREATE TABLE oauth2_registered_client (
  id                            VARCHAR(100)  NOT NULL,
  client_id                     VARCHAR(100)  NOT NULL,
  client_id_issued_at           TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
  client_secret                 VARCHAR(200)  DEFAULT NULL,
  client_secret_expires_at      TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  client_name                   VARCHAR(200)  NOT NULL,
  client_authentication_methods VARCHAR(1000) NOT NULL,
  authorization_grant_types     VARCHAR(1000) NOT NULL,
  redirect_uris                 VARCHAR(1000) DEFAULT NULL,
  post_logout_redirect_uris     VARCHAR(1000) DEFAULT NULL,
  scopes                        VARCHAR(1000) NOT NULL,
  client_settings               VARCHAR(2000) NOT NULL,
  token_settings                VARCHAR(2000) NOT NULL,
  PRIMARY KEY (id)
);
CREATE UNIQUE INDEX oauth2_registered_client_client_id ON oauth2_registered_client (client_id);

CREATE TABLE oauth2_authorization (
  id                            VARCHAR(100) NOT NULL,
  registered_client_id          VARCHAR(100) NOT NULL,
  principal_name                VARCHAR(200) NOT NULL,
  authorization_grant_type      VARCHAR(100) NOT NULL,
  authorized_scopes             VARCHAR(1000) DEFAULT NULL,
  attributes                    TEXT DEFAULT NULL,
  state                         VARCHAR(500) DEFAULT NULL,
  authorization_code_value      TEXT DEFAULT NULL,
  authorization_code_issued_at  TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  authorization_code_expires_at TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  authorization_code_metadata   TEXT DEFAULT NULL,
  access_token_value            TEXT DEFAULT NULL,
  access_token_issued_at        TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  access_token_expires_at       TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  access_token_metadata         TEXT DEFAULT NULL,
  access_token_type             VARCHAR(100) DEFAULT NULL,
  access_token_scopes           VARCHAR(1000) DEFAULT NULL,
  oidc_id_token_value           TEXT DEFAULT NULL,
  oidc_id_token_issued_at       TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  oidc_id_token_expires_at      TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  oidc_id_token_metadata        TEXT DEFAULT NULL,
  refresh_token_value           TEXT DEFAULT NULL,
  refresh_token_issued_at       TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  refresh_token_expires_at      TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  refresh_token_metadata        TEXT DEFAULT NULL,
  user_code_value               TEXT DEFAULT NULL,
  user_code_issued_at           TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  user_code_expires_at          TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  user_code_metadata            TEXT DEFAULT NULL,
  device_code_value             TEXT DEFAULT NULL,
  device_code_issued_at         TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  device_code_expires_at        TIMESTAMP WITH TIME ZONE DEFAULT NULL,
  device_code_metadata          TEXT DEFAULT NULL,
  PRIMARY KEY (id)
);
-- The scheduled clean-up deletes by expiry; look-ups by token value go through the primary key
-- of the authorization they belong to in later versions (hash columns), not yet here.
CREATE INDEX oauth2_authorization_access_expiry ON oauth2_authorization (access_token_expires_at);

CREATE TABLE oauth2_authorization_consent (
  registered_client_id VARCHAR(100)  NOT NULL,
  principal_name       VARCHAR(200)  NOT NULL,
  authorities          VARCHAR(1000) NOT NULL,
  PRIMARY KEY (registered_client_id, principal_name)
);
