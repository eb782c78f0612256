package io.yinxin.sso.spring;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code yinxin.sso.*}.
 *
 * @param enabled host the OpenID Provider on this node
 * @param issuer the issuer identifier (https URL in production), written into every token and the
 *     discovery document; empty for {@code http://<server.address>:<server.port>}
 * @param keyBackend where the token signing keys are created when they do not exist yet ({@code
 *     soft}, {@code pkcs11}, {@code vault-transit})
 * @param es256Key the ES256 signing key (access tokens, and ID tokens of clients that ask for it):
 *     a key URI; empty for {@code <key-backend>:sso-es256}, created at first start
 * @param rs256Key the RS256 key OpenID Discovery requires for ID tokens; empty for {@code
 *     <key-backend>:sso-rs256}, created at first start
 * @param accessTokenTtl lifetime of access tokens
 * @param clientSecretKey base64 of the 32-byte key client secrets are hashed with (HMAC-SHA256);
 *     empty to generate one under the data directory (development only: every node of a cluster
 *     needs the same key)
 * @param generateDemoClient register a demo client at first start and write it to dev.json
 *     (development only); with it, an administrator token for the client admin API is generated
 *     when none is configured
 * @param adminTokenSha256 hex SHA-256 of the bearer token that may manage clients ({@code
 *     /sso/v1/clients}); access tokens of this provider with scope {@code sso:admin} may too
 * @param dataKey the data protection key ID and phone numbers are encrypted under: a key URI; empty
 *     for {@code <key-backend>:sso-personal-data}, created at first start
 * @param dataKeyType the type of that key when it is created: {@code AES_256_GCM} (every backend)
 *     or {@code SM4_GCM} (soft backend only)
 * @param certificateLoginPort the HTTPS port where citizens sign in with certificates (mutual TLS);
 *     0 for none
 * @param citizenCa PEM file of the citizen CA certificates whose certificates may sign in
 * @param clientCa PEM file of the CA certificates whose certificates clients registered with {@code
 *     tls_client_auth} (RFC 8705 §2.1) may authenticate with, on the certificate port; empty for
 *     none (such clients are then refused)
 * @param tlsKeyStore PKCS#12 file of that port's server key and certificate; empty on the embedded
 *     default for a generated self-signed one
 * @param tlsKeyStorePassword its password
 * @param sessionsRedisUrl {@code redis://[:password@]host:port[/db]} to keep sign-in sessions in
 *     Redis; empty for the database
 * @param upstreams other agencies' OpenID Providers people may sign in through ({@code id}, {@code
 *     name}, {@code issuer}, {@code client-id}, {@code client-secret})
 * @param passkeysRpId the WebAuthn relying party ID (the host name people see, e.g. {@code
 *     sso.example.gov.cn}); empty for no passkeys
 * @param passkeysOrigins the origins passkeys may be used from (e.g. {@code
 *     https://sso.example.gov.cn})
 * @param newSessionsPerMinute new sign-in sessions one client address (IPv6: its /64) may open per
 *     minute on one node; beyond it such requests get 429 (see {@link NewSessionBudget})
 * @param deviceAuthorizationsPerMinute device codes one client address (IPv6: its /64) may ask for
 *     per minute on one node; beyond it 429 (see {@link DeviceAuthorizationBudget})
 * @param credentialChangeMaxAge how recent a sign-in must be to open the pages that change how an
 *     account signs in (TOTP, passkeys); older sessions sign in again first (see {@link
 *     io.yinxin.sso.web.RecentSignIn})
 * @param sessionMaxLifetime how long a sign-in lasts at most, however busy its session (see {@link
 *     io.yinxin.sso.web.SignInLifetime})
 * @param secondFactorRequired which accounts must have a second factor: {@code none}, {@code
 *     administrators} or {@code everyone}; one without is sent to set up an authenticator app when
 *     it signs in with its password (see {@link io.yinxin.sso.account.SecondFactorLogin.Policy})
 * @param breachedPasswords a file of breached passwords' SHA-1 hashes sorted by hash (Have I Been
 *     Pwned's download, see {@link io.yinxin.sso.account.BreachedPasswords}) no new password may be
 *     in; empty for none
 */
@ConfigurationProperties("yinxin.sso")
public record SsoProperties(
    @DefaultValue("true") boolean enabled,
    @DefaultValue("") String issuer,
    @DefaultValue("soft") String keyBackend,
    @DefaultValue("") String es256Key,
    @DefaultValue("") String rs256Key,
    @DefaultValue("5m") Duration accessTokenTtl,
    @DefaultValue("") String clientSecretKey,
    @DefaultValue("false") boolean generateDemoClient,
    @DefaultValue("") String adminTokenSha256,
    @DefaultValue("") String dataKey,
    @DefaultValue("AES_256_GCM") io.yinxin.hsm.DataKeySpec dataKeyType,
    @DefaultValue("0") int certificateLoginPort,
    @DefaultValue("") String citizenCa,
    @DefaultValue("") String clientCa,
    @DefaultValue("") String tlsKeyStore,
    @DefaultValue("") String tlsKeyStorePassword,
    @DefaultValue("") String sessionsRedisUrl,
    @DefaultValue java.util.List<io.yinxin.sso.federation.Upstreams.Upstream> upstreams,
    @DefaultValue("") String passkeysRpId,
    @DefaultValue java.util.List<String> passkeysOrigins,
    @DefaultValue("600") int newSessionsPerMinute,
    @DefaultValue("60") int deviceAuthorizationsPerMinute,
    @DefaultValue("5m") Duration credentialChangeMaxAge,
    @DefaultValue("10h") Duration sessionMaxLifetime,
    @DefaultValue("none") String secondFactorRequired,
    @DefaultValue("") String breachedPasswords) {}
