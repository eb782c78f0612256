package io.yinxin.sso.spring;

import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import io.yinxin.audit.AuditLog;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.Randomness;
import io.yinxin.sso.client.DemoClient;
import io.yinxin.sso.client.KeyedSecretEncoder;
import io.yinxin.sso.token.AuditedTokenGenerator;
import io.yinxin.sso.token.KeyServiceJwtEncoder;
import io.yinxin.sso.token.SigningKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2Token;
import org.springframework.security.oauth2.core.oidc.OidcScopes;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.server.authorization.JdbcOAuth2AuthorizationConsentService;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationConsentService;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.authentication.ClientSecretAuthenticationProvider;
import org.springframework.security.oauth2.server.authorization.client.JdbcRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.settings.AuthorizationServerSettings;
import org.springframework.security.oauth2.server.authorization.settings.ClientSettings;
import org.springframework.security.oauth2.server.authorization.settings.OAuth2TokenFormat;
import org.springframework.security.oauth2.server.authorization.settings.TokenSettings;
import org.springframework.security.oauth2.server.authorization.token.DelegatingOAuth2TokenGenerator;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.JwtGenerator;
import org.springframework.security.oauth2.server.authorization.token.OAuth2RefreshTokenGenerator;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenGenerator;
import org.springframework.security.web.SecurityFilterChain;

/**
 * The OpenID Provider on this node: Spring Security's OAuth2 Authorization Server with its clients,
 * authorizations and consents in schema {@code sso} (JDBC, never in memory), tokens signed by keys
 * in the key backend (ES256 access tokens, RFC 9068 {@code at+jwt}; ID tokens in the client's
 * algorithm, RS256 by default as OpenID Discovery requires), client secrets hashed with a server
 * key, and every access token a {@code TOKEN_ISSUED} audit event.
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "io.yinxin.hsm.spring.HsmAutoConfiguration",
      "io.yinxin.audit.spring.AuditAutoConfiguration",
      "io.yinxin.audit.spring.RemoteAuditConfiguration"
    },
    beforeName = {
      "org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration",
      "org.springframework.boot.security.oauth2.server.authorization.autoconfigure.servlet.OAuth2AuthorizationServerAutoConfiguration"
    })
@ConditionalOnProperty(prefix = "yinxin.sso", name = "enabled", matchIfMissing = true)
// A node started without a web server (`yinxin ca init`) has no provider to serve.
@org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication(
    type =
        org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type.SERVLET)
@EnableConfigurationProperties(SsoProperties.class)
public class SsoAutoConfiguration {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(SsoAutoConfiguration.class);

  @Bean
  SsoSchema ssoSchema(DataSource dataSource) {
    return SsoSchema.migrate(dataSource);
  }

  /** The signing keys, created in the key backend at first start when none is configured. */
  @Bean
  SigningKeys ssoSigningKeys(SsoProperties p, KeyService keys) {
    KeyRef.Scheme scheme =
        java.util.Arrays.stream(KeyRef.Scheme.values())
            .filter(x -> x.uriScheme().equals(p.keyBackend()))
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "yinxin.sso.key-backend: one of soft, pkcs11, vault-transit"));
    KeyRef es = keyOrCreate(keys, p.es256Key(), scheme, KeySpec.EC_P256, "sso-es256");
    KeyRef rs = keyOrCreate(keys, p.rs256Key(), scheme, KeySpec.RSA_3072, "sso-rs256");
    return SigningKeys.of(keys, List.of(es, rs));
  }

  private static KeyRef keyOrCreate(
      KeyService keys, String configured, KeyRef.Scheme scheme, KeySpec spec, String label) {
    if (!configured.isBlank()) {
      return KeyRef.parse(configured);
    }
    return keys.list().stream()
        .map(io.yinxin.hsm.KeyInfo::ref)
        .filter(r -> r.scheme() == scheme && r.label().equals(label))
        .findFirst()
        .orElseGet(() -> keys.generate(scheme, spec, label).ref());
  }

  /**
   * Rotation of the signing keys, shared through the database; the keys above seed it at first
   * start.
   */
  @Bean(destroyMethod = "close")
  io.yinxin.sso.token.KeyRotation ssoKeyRotation(
      SigningKeys signing,
      KeyService keys,
      DataSource dataSource,
      SsoSchema schema,
      io.yinxin.audit.AuditOutbox audit) {
    return new io.yinxin.sso.token.KeyRotation(
        dataSource,
        keys,
        signing,
        signing.all().stream().map(SigningKeys.SigningKey::ref).toList(),
        audit,
        java.time.Clock.systemUTC());
  }

  /**
   * The JWK set: the keys that sign and the retired ones still published; a key ID this node does
   * not know yet (another node rotated) makes it read the key table again.
   */
  @Bean
  JWKSource<SecurityContext> ssoJwkSource(
      SigningKeys keys,
      org.springframework.beans.factory.ObjectProvider<io.yinxin.sso.token.KeyRotation> rotation) {
    return (selector, context) -> {
      var found = selector.select(keys.publicJwkSet());
      String kid =
          selector.getMatcher().getKeyIDs() == null || selector.getMatcher().getKeyIDs().size() != 1
              ? null
              : selector.getMatcher().getKeyIDs().iterator().next();
      if (found.isEmpty() && kid != null) {
        rotation.ifAvailable(io.yinxin.sso.token.KeyRotation::unknownKeyId);
        found = selector.select(keys.publicJwkSet());
      }
      return found;
    };
  }

  @Bean
  JwtEncoder ssoJwtEncoder(KeyService keyService, SigningKeys keys) {
    return new KeyServiceJwtEncoder(keyService, keys);
  }

  /**
   * This provider's own access tokens, as userinfo and the client admin API take them: signed by a
   * key of its JWK set (ES256 or RS256), unexpired, header type {@code at+jwt} (RFC 9068; the
   * upstream default accepts only {@code JWT} and so refused this provider's access tokens), and a
   * token bound to a key only with that key ({@link io.yinxin.sso.token.BoundTokens}).
   */
  @Bean
  JwtDecoder ssoJwtDecoder(JWKSource<SecurityContext> jwks, DataSource dataSource) {
    org.springframework.security.oauth2.jwt.NimbusJwtDecoder d =
        org.springframework.security.oauth2.jwt.NimbusJwtDecoder.withJwkSource(jwks)
            .jwtProcessorCustomizer(
                p -> {
                  p.setJWSTypeVerifier(
                      new com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier<>(
                          new com.nimbusds.jose.JOSEObjectType("at+jwt")));
                  p.setJWSVerifierFactory(io.yinxin.audit.access.IssuerAccessTokens.bouncyCastle());
                })
            .jwsAlgorithms(
                a -> a.addAll(List.of(SignatureAlgorithm.ES256, SignatureAlgorithm.RS256)))
            .build();
    d.setJwtValidator(
        new org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator<>(
            new org.springframework.security.oauth2.jwt.JwtTimestampValidator(),
            new org.springframework.security.oauth2.jwt.JwtTypeValidator("at+jwt"),
            new io.yinxin.sso.token.BoundTokens(
                new io.yinxin.sso.client.AssertionReplay(
                    dataSource, java.time.Clock.systemUTC()))));
    return d;
  }

  /**
   * A {@code cnf} claim. A HashMap: the stored authorization keeps the token's claims as JSON with
   * their Java types, and reading them back allows HashMap but refuses {@code Map.of}'s classes —
   * with {@code Map.of} a bound token worked at the token endpoint and nowhere after (userinfo,
   * introspection and revocation could not read its authorization).
   */
  private static Map<String, Object> confirmation(String method, String value) {
    Map<String, Object> cnf = new java.util.HashMap<>();
    cnf.put(method, value);
    return cnf;
  }

  /** Access tokens are ES256 {@code at+jwt} (RFC 9068); ID tokens keep the client's algorithm. */
  @Bean
  @SuppressWarnings("unchecked") // the proof's jwk header, a JSON object
  OAuth2TokenGenerator<OAuth2Token> ssoTokenGenerator(
      JwtEncoder encoder,
      AuditLog audit,
      SigningKeys keys,
      io.yinxin.sso.realname.RealNameClaims realNames,
      DataSource dataSource) {
    JwtGenerator jwt = new JwtGenerator(encoder);
    // A DPoP proof is good once on every node: Spring's own check remembers proofs in one node's
    // memory, so behind a load balancer the same proof worked once per node.
    var dpopReplay =
        new io.yinxin.sso.client.AssertionReplay(dataSource, java.time.Clock.systemUTC());
    OAuth2TokenCustomizer<JwtEncodingContext> customizer =
        context -> {
          if (OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())) {
            context.getJwsHeader().algorithm(SignatureAlgorithm.ES256).type("at+jwt");
            // RFC 9068 §2.2: jti and client_id are required claims of a JWT access token.
            // A client-credentials token's jti marks it as not stored (StatelessClientTokens).
            context
                .getClaims()
                .id(
                    AuthorizationGrantType.CLIENT_CREDENTIALS.equals(
                            context.getAuthorizationGrantType())
                        ? io.yinxin.sso.token.StatelessClientTokens.newId()
                        : UUID.randomUUID().toString())
                .claim("client_id", context.getRegisteredClient().getClientId());
            // Certificate-bound (RFC 8705 §3): the client certificate's SHA-256 thumbprint.
            if (context
                    .getRegisteredClient()
                    .getTokenSettings()
                    .isX509CertificateBoundAccessTokens()
                && context.getAuthorizationGrant() != null
                && context.getAuthorizationGrant().getPrincipal()
                    instanceof
                    org.springframework.security.oauth2.server.authorization.authentication
                            .OAuth2ClientAuthenticationToken
                        client
                && client.getCredentials() instanceof java.security.cert.X509Certificate[] chain
                && chain.length > 0) {
              context
                  .getClaims()
                  .claim(
                      "cnf",
                      confirmation(
                          "x5t#S256", io.yinxin.sso.token.BoundTokens.thumbprint(chain[0])));
            }
            // DPoP (RFC 9449 §6.1): the token names the proof key's thumbprint. Spring's default
            // customizer does this, but it is not applied to a generator of one's own: without
            // this line a DPoP client silently got a bearer token.
            if (context.get(
                    org.springframework.security.oauth2.server.authorization.token
                        .OAuth2TokenContext.DPOP_PROOF_KEY)
                instanceof org.springframework.security.oauth2.jwt.Jwt proof) {
              String jkt;
              try {
                jkt =
                    com.nimbusds
                        .jose
                        .jwk
                        .JWK
                        .parse((Map<String, Object>) proof.getHeaders().get("jwk"))
                        .computeThumbprint()
                        .toString();
              } catch (java.text.ParseException
                  | ClassCastException
                  | com.nimbusds.jose.JOSEException e) {
                throw new org.springframework.security.oauth2.core.OAuth2AuthenticationException(
                    new org.springframework.security.oauth2.core.OAuth2Error(
                        "invalid_dpop_proof", "jwk header is missing or invalid", null));
              }
              java.time.Instant issued =
                  proof.getIssuedAt() != null ? proof.getIssuedAt() : java.time.Instant.now();
              if (proof.getId() == null
                  || !dpopReplay.firstUse(
                      "dpop\n" + jkt + "\n" + proof.getId(), issued.plus(Duration.ofMinutes(5)))) {
                throw new org.springframework.security.oauth2.core.OAuth2AuthenticationException(
                    new org.springframework.security.oauth2.core.OAuth2Error(
                        "invalid_dpop_proof", "the DPoP proof was used before", null));
              }
              context.getClaims().claim("cnf", confirmation("jkt", jkt));
            }
          }
        };
    jwt.setJwtCustomizer(
        context -> {
          customizer.customize(context);
          io.yinxin.sso.token.AuthenticationMethods.addToIdToken(context);
          if (org.springframework.security.oauth2.core.oidc.endpoint.OidcParameterNames.ID_TOKEN
              .equals(context.getTokenType().getValue())) {
            Map<String, Object> claims =
                realNames.release(
                    context.getPrincipal().getName(),
                    context.getAuthorizedScopes(),
                    context.getRegisteredClient().getClientId(),
                    "id_token");
            context.getClaims().claims(c -> c.putAll(claims));
          }
        });
    return new AuditedTokenGenerator(
        new DelegatingOAuth2TokenGenerator(jwt, new OAuth2RefreshTokenGenerator()), audit, keys);
  }

  /**
   * Clients in the database, served from memory until one changes (another node's change holds here
   * within half a second, {@link io.yinxin.sso.client.CachedClients}).
   */
  @Bean
  io.yinxin.sso.client.CachedClients ssoClients(SsoSchema schema) {
    return new io.yinxin.sso.client.CachedClients(
        new JdbcRegisteredClientRepository(new JdbcTemplate(schema.dataSource())),
        schema.dataSource(),
        Duration.ofMillis(500));
  }

  /**
   * Authorizations in the database, with refresh-token reuse detection around them; those of the
   * client-credentials grant are not stored ({@link io.yinxin.sso.token.StatelessClientTokens}).
   */
  @Bean
  OAuth2AuthorizationService ssoAuthorizations(
      SsoSchema schema,
      RegisteredClientRepository clients,
      DataSource dataSource,
      AuditLog audit,
      SigningKeys keys) {
    return new io.yinxin.sso.token.StatelessClientTokens(
        new io.yinxin.sso.token.RefreshTokenFamilies(
            new io.yinxin.sso.token.TokenIndex(
                io.yinxin.sso.token.ParseOnceJsonMapper.authorizations(
                    new JdbcTemplate(schema.dataSource()), clients),
                schema.dataSource()),
            dataSource,
            audit,
            java.time.Clock.systemUTC()),
        clients,
        keys,
        new io.yinxin.sso.client.AssertionReplay(dataSource, java.time.Clock.systemUTC()));
  }

  /** Expired authorizations are deleted hourly, a day after their last token expired. */
  @Bean(destroyMethod = "close")
  io.yinxin.sso.token.ExpiredAuthorizations ssoExpiredAuthorizations(
      DataSource dataSource, SsoSchema schema) {
    return new io.yinxin.sso.token.ExpiredAuthorizations(
            dataSource, Duration.ofDays(1), java.time.Clock.systemUTC())
        .every(Duration.ofHours(1));
  }

  @Bean
  OAuth2AuthorizationConsentService ssoConsents(
      SsoSchema schema, RegisteredClientRepository clients) {
    return new io.yinxin.sso.token.ConsentsInTransaction(
        new JdbcOAuth2AuthorizationConsentService(new JdbcTemplate(schema.dataSource()), clients),
        schema.dataSource());
  }

  /**
   * The issuer: {@code yinxin.sso.issuer}; on the embedded default, when it is empty, the URL the
   * request came to (Spring's per-request issuer), so a node on any port or address is its own
   * issuer. Production must name it.
   */
  @Bean
  AuthorizationServerSettings ssoServerSettings(SsoProperties p) {
    AuthorizationServerSettings.Builder b = AuthorizationServerSettings.builder();
    if (!p.issuer().isBlank()) {
      b.issuer(p.issuer());
    } else if (!p.generateDemoClient()) {
      throw new IllegalStateException(
          "yinxin.sso.issuer is required (the https URL clients reach this provider at)");
    }
    return b.build();
  }

  /** Client secrets: HMAC-SHA256 under {@code yinxin.sso.client-secret-key}. */
  @Bean
  KeyedSecretEncoder ssoClientSecrets(SsoProperties p, Environment env) {
    return new KeyedSecretEncoder(clientSecretKey(p, env));
  }

  /** Device cookies, under a key derived from the client secret key (the same on every node). */
  @Bean
  io.yinxin.sso.account.DeviceCookies ssoDeviceCookies(
      SsoProperties p, Environment env, io.yinxin.sso.account.Accounts accounts) {
    return new io.yinxin.sso.account.DeviceCookies(
        clientSecretKey(p, env), accounts, java.time.Clock.systemUTC());
  }

  /** {@code yinxin.sso.client-secret-key}, or on the embedded default one kept in the data dir. */
  private static byte[] clientSecretKey(SsoProperties p, Environment env) {
    if (!p.clientSecretKey().isBlank()) {
      return Base64.getDecoder().decode(p.clientSecretKey());
    }
    if (!p.generateDemoClient()) {
      throw new IllegalStateException(
          "yinxin.sso.client-secret-key is required (base64 of 32 random bytes, the same on every"
              + " node)");
    }
    Path file = dataDir(env).resolve("sso-client-secret.key");
    return Base64.getDecoder().decode(ownerOnly(file, () -> base64(random32())));
  }

  /**
   * The authorization server's endpoints (discovery, JWKS, token, introspection, revocation,
   * userinfo...), and nothing else: every other path of the node is left to its module.
   */
  @Bean
  @Order(1)
  SecurityFilterChain ssoAuthorizationServer(
      HttpSecurity http,
      KeyedSecretEncoder secrets,
      RegisteredClientRepository clients,
      OAuth2AuthorizationService authorizations,
      OAuth2TokenGenerator<OAuth2Token> tokens,
      io.yinxin.sso.client.ClientAdmin admin,
      io.yinxin.sso.token.BackChannelLogout backChannel,
      DataSource dataSource,
      io.yinxin.sso.realname.RealNameClaims realNames,
      io.yinxin.sso.account.Accounts accounts,
      SsoProperties properties,
      AuditLog audit,
      io.yinxin.sso.account.SecondFactorLogin secondFactor,
      io.yinxin.sso.web.DeviceCodeGuesses deviceCodeGuesses)
      throws Exception {
    // private_key_jwt: Spring's checks of the assertion, then each assertion good once.
    var assertions =
        new org.springframework.security.oauth2.server.authorization.authentication
            .JwtClientAssertionDecoderFactory();
    var replay = new io.yinxin.sso.client.AssertionReplay(dataSource, java.time.Clock.systemUTC());
    assertions.setJwtValidatorFactory(
        client ->
            new org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator<>(
                org.springframework.security.oauth2.server.authorization.authentication
                    .JwtClientAssertionDecoderFactory.DEFAULT_JWT_VALIDATOR_FACTORY
                    .apply(client),
                replay));
    // RP-initiated logout ends the person's tokens and tells the clients (back-channel logout).
    var springLogout =
        new org.springframework.security.oauth2.server.authorization.oidc.web.authentication
            .OidcLogoutAuthenticationSuccessHandler();
    org.springframework.security.web.authentication.AuthenticationSuccessHandler logout =
        (request, response, authentication) -> {
          if (authentication
                  instanceof
                  org.springframework.security.oauth2.server.authorization.oidc.authentication
                          .OidcLogoutAuthenticationToken
                      t
              && t.isPrincipalAuthenticated()
              && t.getPrincipal() instanceof org.springframework.security.core.Authentication who) {
            List<String> front =
                backChannel.signedOut(
                    who.getName(),
                    org.springframework.security.oauth2.server.authorization.context
                        .AuthorizationServerContextHolder.getContext()
                        .getIssuer());
            if (!front.isEmpty()) {
              // The browser tells the front-channel clients, then goes where Spring would send it.
              new org.springframework.security.web.authentication.logout
                      .SecurityContextLogoutHandler()
                  .logout(request, response, who);
              String next = "/login?logout";
              if (t.getPostLogoutRedirectUri() != null) {
                next =
                    org.springframework.web.util.UriComponentsBuilder.fromUriString(
                            t.getPostLogoutRedirectUri())
                        .queryParamIfPresent("state", Optional.ofNullable(t.getState()))
                        .build()
                        .toUriString();
              }
              io.yinxin.sso.web.LogoutPage.write(request, response, front, next);
              return;
            }
          }
          springLogout.onAuthenticationSuccess(request, response, authentication);
        };
    // Dynamic registration checked by the admin API's rules, stored with its audit event.
    var registration =
        new org.springframework.security.oauth2.server.authorization.oidc.authentication
            .OidcClientRegistrationAuthenticationProvider(
            io.yinxin.sso.client.DynamicRegistration.audited(clients, admin),
            authorizations,
            tokens);
    registration.setRegisteredClientConverter(
        new io.yinxin.sso.client.DynamicRegistration(java.time.Clock.systemUTC()));
    registration.setPasswordEncoder(secrets);
    // The converter applies the admin API's rules to every field (stricter than Spring's
    // defaults, which refuse any requested scope): nothing is left to check before it.
    registration.setAuthenticationValidator(context -> {});
    var authorizationServer =
        new org.springframework.security.config.annotation.web.configurers.oauth2.server
            .authorization.OAuth2AuthorizationServerConfigurer();
    // JWT-secured authorization requests (RFC 9101), before Spring reads the parameters.
    http.addFilterBefore(
        new io.yinxin.sso.client.RequestObjects(
            clients,
            () ->
                org.springframework.security.oauth2.server.authorization.context
                    .AuthorizationServerContextHolder.getContext()
                    .getIssuer()),
        // Spring puts its authorization endpoint at this same place, after this one (added first).
        org.springframework.security.web.authentication.preauth
            .AbstractPreAuthenticatedProcessingFilter.class);
    // prompt=login and max_age (OpenID Connect Core §3.1.2.1): a fresh sign-in when asked.
    var freshSignIn =
        new io.yinxin.sso.token.FreshSignIn(java.time.Clock.systemUTC(), authorizations);
    http.addFilterBefore(
        freshSignIn.filter(),
        org.springframework.security.web.authentication.preauth
            .AbstractPreAuthenticatedProcessingFilter.class);
    // A sign-in lasts at most yinxin.sso.session-max-lifetime, however busy its session.
    http.addFilterAfter(
        new io.yinxin.sso.web.SignInLifetime(
            properties.sessionMaxLifetime(), java.time.Clock.systemUTC()),
        org.springframework.security.web.context.SecurityContextHolderFilter.class);
    // Then, a sign-in that must set up its second factor first reaches nothing else.
    http.addFilterAfter(
        secondFactor.enrolmentFilter(),
        org.springframework.security.web.context.SecurityContextHolderFilter.class);
    // A person who entered too many wrong device codes enters none for a while (RFC 8628 §5.1).
    http.addFilterAfter(
        deviceCodeGuesses.filter(),
        org.springframework.security.web.context.SecurityContextHolderFilter.class);
    http.securityMatcher(authorizationServer.getEndpointsMatcher())
        .with(
            authorizationServer,
            as ->
                as.oidc(
                        oidc ->
                            oidc.logoutEndpoint(l -> l.logoutResponseHandler(logout))
                                // Both logout channels are built here (upstream has neither).
                                .providerConfigurationEndpoint(
                                    c ->
                                        c.providerConfigurationCustomizer(
                                            d ->
                                                d.claim("backchannel_logout_supported", true)
                                                    .claim(
                                                        "backchannel_logout_session_supported",
                                                        false)
                                                    .claim("frontchannel_logout_supported", true)
                                                    .claim(
                                                        "frontchannel_logout_session_supported",
                                                        false)
                                                    .claim("request_parameter_supported", true)
                                                    .claim("request_uri_parameter_supported", true)
                                                    .claim("require_request_uri_registration", true)
                                                    .claim(
                                                        "request_object_signing_alg_values_supported",
                                                        List.of("RS256", "PS256", "ES256"))
                                                    // What clients can register here, no more.
                                                    .claims(
                                                        metadata ->
                                                            discovery(metadata, properties))))
                                .userInfoEndpoint(
                                    u -> u.userInfoMapper(userInfo(realNames, accounts, clients)))
                                .clientRegistrationEndpoint(
                                    endpoint ->
                                        endpoint
                                            // The JSON read strictly before Spring reads it.
                                            .clientRegistrationRequestConverters(
                                                converters ->
                                                    converters.replaceAll(
                                                        io.yinxin.sso.client
                                                                .StrictRegistrationRequests
                                                            ::new))
                                            .clientRegistrationResponseHandler(
                                                new io.yinxin.sso.client.RegistrationResponses())
                                            .authenticationProviders(
                                                providers ->
                                                    providers.replaceAll(
                                                        p ->
                                                            p
                                                                    instanceof
                                                                    org.springframework.security
                                                                        .oauth2.server.authorization
                                                                        .oidc.authentication
                                                                        .OidcClientRegistrationAuthenticationProvider
                                                                ? registration
                                                                : p))))
                    // One durable TOKEN_ISSUED event per token response, before it is written.
                    .tokenEndpoint(
                        t ->
                            t.accessTokenResponseHandler(
                                new io.yinxin.sso.token.TokenIssuance(
                                    audit,
                                    authorizations,
                                    new io.yinxin.sso.token.PlainTokenResponse(
                                        new org.springframework.security.oauth2.server.authorization
                                            .web.authentication
                                            .OAuth2AccessTokenResponseAuthenticationSuccessHandler()))))
                    // Yinxin's own consent page, in Chinese and English.
                    .authorizationEndpoint(
                        e ->
                            e.consentPage("/oauth2/consent")
                                .authenticationProviders(
                                    providers ->
                                        providers.forEach(
                                            provider -> {
                                              if (provider
                                                  instanceof
                                                  org.springframework.security.oauth2.server
                                                          .authorization.authentication
                                                          .OAuth2AuthorizationCodeRequestAuthenticationProvider
                                                      code) {
                                                code.setAuthenticationValidator(
                                                    new org.springframework.security.oauth2.server
                                                            .authorization.authentication
                                                            .OAuth2AuthorizationCodeRequestAuthenticationValidator()
                                                        .andThen(
                                                            io.yinxin.sso.token.SignInHints
                                                                .validator())
                                                        .andThen(freshSignIn.validator()));
                                                // prompt=consent: the consent page, even where
                                                // Spring would not ask (only openid, or agreed).
                                                code.setAuthorizationConsentRequired(
                                                    SsoAutoConfiguration::consentRequired);
                                              }
                                            })))
                    // Pushed authorization requests (RFC 9126). Spring's converter returns null
                    // for a request without response_type=code, and its PAR filter passes that on
                    // to the authentication manager: 500. The last converter answers
                    // invalid_request.
                    .pushedAuthorizationRequestEndpoint(
                        par ->
                            par.pushedAuthorizationRequestConverters(
                                converters ->
                                    converters.add(SsoAutoConfiguration::notACodeRequest)))
                    // The device grant (RFC 8628): people enter the code at /activate.
                    .deviceAuthorizationEndpoint(d -> d.verificationUri("/activate"))
                    .deviceVerificationEndpoint(
                        v ->
                            v.consentPage("/oauth2/consent")
                                .deviceVerificationResponseHandler(
                                    (request, response, authentication) ->
                                        response.sendRedirect("/activate?done"))
                                .errorResponseHandler(deviceCodeGuesses.errorHandler()))
                    .clientAuthentication(
                        ca ->
                            ca.authenticationConverter(
                                    io.yinxin.sso.client.PublicDeviceClients.converter())
                                .authenticationConverter(
                                    io.yinxin.sso.client.TlsClientAuth.converter())
                                .authenticationProvider(
                                    io.yinxin.sso.client.PublicDeviceClients.provider(clients))
                                .authenticationProviders(
                                    providers ->
                                        providers.forEach(
                                            provider -> {
                                              if (provider
                                                  instanceof ClientSecretAuthenticationProvider c) {
                                                c.setPasswordEncoder(secrets);
                                              }
                                              if (provider
                                                  instanceof
                                                  org.springframework.security.oauth2.server
                                                          .authorization.authentication
                                                          .JwtClientAssertionAuthenticationProvider
                                                      j) {
                                                j.setJwtDecoderFactory(assertions);
                                              }
                                              if (provider
                                                  instanceof
                                                  org.springframework.security.oauth2.server
                                                          .authorization.authentication
                                                          .X509ClientCertificateAuthenticationProvider
                                                      x) {
                                                x.setCertificateVerifier(
                                                    io.yinxin.sso.client.TlsClientAuth.verifier(
                                                        clientCa(properties),
                                                        io.yinxin.sso.client.TlsClientAuth
                                                            .springSelfSignedVerifier()));
                                              }
                                            }))))
        .authorizeHttpRequests(a -> a.anyRequest().authenticated())
        // A browser without a session is sent to the login page; userinfo takes access tokens.
        .exceptionHandling(e -> e.defaultAuthenticationEntryPointFor(loginPage(), browserRequest()))
        .oauth2ResourceServer(
            rs -> rs.jwt(org.springframework.security.config.Customizer.withDefaults()));
    return http.build();
  }

  /**
   * Whether the person is asked to consent: Spring's rule (the client requires consent, more than
   * openid is asked, and not all of it was agreed to before), or the request says {@code
   * prompt=consent} (OpenID Connect Core §3.1.2.1), which Spring does not act on.
   */
  private static boolean consentRequired(
      org.springframework.security.oauth2.server.authorization.authentication
              .OAuth2AuthorizationCodeRequestAuthenticationContext
          context) {
    var request = context.getAuthorizationRequest();
    if (request.getAdditionalParameters().get("prompt") instanceof String prompt
        && java.util.Arrays.asList(prompt.split(" ")).contains("consent")) {
      return true;
    }
    if (!context.getRegisteredClient().getClientSettings().isRequireAuthorizationConsent()) {
      return false;
    }
    java.util.Set<String> scopes = request.getScopes();
    if (scopes.contains("openid") && scopes.size() == 1) {
      return false;
    }
    var earlier = context.getAuthorizationConsent();
    return earlier == null || !earlier.getScopes().containsAll(scopes);
  }

  /** Reached by a pushed authorization request no converter took: not a code request. */
  private static org.springframework.security.core.Authentication notACodeRequest(
      jakarta.servlet.http.HttpServletRequest request) {
    throw new org.springframework.security.oauth2.core.OAuth2AuthenticationException(
        new org.springframework.security.oauth2.core.OAuth2Error(
            org.springframework.security.oauth2.core.OAuth2ErrorCodes.INVALID_REQUEST,
            "OAuth 2.0 Parameter: response_type",
            "https://datatracker.ietf.org/doc/html/rfc9126#section-2.3"));
  }

  /**
   * Userinfo: {@code sub}; with {@code profile} the username and display name; with {@code
   * realname}, {@code id_number} or {@code phone} the real-name claims (each release audited).
   */
  private static java.util.function.Function<
          org.springframework.security.oauth2.server.authorization.oidc.authentication
              .OidcUserInfoAuthenticationContext,
          org.springframework.security.oauth2.core.oidc.OidcUserInfo>
      userInfo(
          io.yinxin.sso.realname.RealNameClaims realNames,
          io.yinxin.sso.account.Accounts accounts,
          RegisteredClientRepository clients) {
    return context -> {
      var authorization = context.getAuthorization();
      String username = authorization.getPrincipalName();
      java.util.Set<String> scopes = context.getAccessToken().getScopes();
      Map<String, Object> claims = new java.util.LinkedHashMap<>();
      claims.put("sub", username);
      if (scopes.contains(OidcScopes.PROFILE)) {
        claims.put("preferred_username", username);
        accounts.displayName(username).ifPresent(n -> claims.put("name", n));
      }
      RegisteredClient client = clients.findById(authorization.getRegisteredClientId());
      realNames
          .release(username, scopes, client == null ? "-" : client.getClientId(), "userinfo")
          // Times as NumericDate, as in the ID token (OpenID Connect Core §2).
          .forEach(
              (k, v) -> claims.put(k, v instanceof java.time.Instant i ? i.getEpochSecond() : v));
      return new org.springframework.security.oauth2.core.oidc.OidcUserInfo(claims);
    };
  }

  private static org.springframework.security.web.AuthenticationEntryPoint loginPage() {
    return new org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint(
        "/login");
  }

  /**
   * A request that asks for HTML by name. {@code Accept: *}{@code /*} (curl, most HTTP clients)
   * does not count: a client without credentials at the token endpoint gets RFC 6749's 401, not a
   * redirect to a login form.
   */
  private static org.springframework.security.web.util.matcher.RequestMatcher browserRequest() {
    var html =
        new org.springframework.security.web.util.matcher.MediaTypeRequestMatcher(
            org.springframework.http.MediaType.TEXT_HTML);
    html.setIgnoredMediaTypes(java.util.Set.of(org.springframework.http.MediaType.ALL));
    return html;
  }

  @Bean
  io.yinxin.sso.account.Accounts ssoAccounts(
      DataSource dataSource,
      SsoSchema schema,
      io.yinxin.sso.account.BreachedPasswords breachedPasswords) {
    return new io.yinxin.sso.account.Accounts(
        dataSource,
        io.yinxin.sso.account.Accounts.passwords(),
        breachedPasswords,
        java.time.Clock.systemUTC());
  }

  /** The breached-password list (yinxin.sso.breached-passwords), checked at start; or none. */
  @Bean
  io.yinxin.sso.account.BreachedPasswords ssoBreachedPasswords(SsoProperties p) {
    return p.breachedPasswords().isBlank()
        ? io.yinxin.sso.account.BreachedPasswords.none()
        : io.yinxin.sso.account.BreachedPasswords.open(
            java.nio.file.Path.of(p.breachedPasswords()));
  }

  /** Sign-in and sign-out of people: the login form (with CSRF protection) and logout. */
  @Bean
  @Order(2)
  SecurityFilterChain ssoLogin(
      HttpSecurity http,
      io.yinxin.sso.account.Accounts accounts,
      io.yinxin.sso.account.LoginThrottle throttle,
      io.yinxin.sso.account.SecondFactorLogin secondFactor,
      io.yinxin.sso.token.BackChannelLogout backChannel,
      SsoProperties properties,
      io.yinxin.sso.web.AccountPages accountPages,
      io.yinxin.sso.federation.Upstreams upstreams,
      io.yinxin.sso.federation.FederatedUsers federatedUsers,
      io.yinxin.sso.account.LoginAudit loginAudit,
      io.yinxin.sso.account.DeviceCookies devices,
      org.springframework.context.ApplicationEventPublisher events)
      throws Exception {
    var provider =
        new org.springframework.security.authentication.dao.DaoAuthenticationProvider(accounts);
    provider.setPasswordEncoder(io.yinxin.sso.account.Accounts.passwords());
    // Sign-in through an upstream: its code for its tokens, the person linked by a verified claim.
    var federation =
        new org.springframework.security.oauth2.client.oidc.authentication
            .OidcAuthorizationCodeAuthenticationProvider(
            new org.springframework.security.oauth2.client.endpoint
                .RestClientAuthorizationCodeTokenResponseClient(),
            federatedUsers);
    // One manager with no parent: a refusal (a throttled account) is final, not retried elsewhere.
    var manager =
        new org.springframework.security.authentication.ProviderManager(
            throttle.around(provider, devices), federation);
    var publisher =
        new org.springframework.security.authentication.DefaultAuthenticationEventPublisher(events);
    publisher.setDefaultAuthenticationFailureEvent(
        org.springframework.security.authentication.event.AuthenticationFailureBadCredentialsEvent
            .class);
    manager.setAuthenticationEventPublisher(publisher);
    http.securityMatcher(
            "/login",
            "/login/otp",
            "/login/password",
            "/login/certificate",
            "/login/forgot",
            "/logout",
            "/activate",
            "/account",
            "/account/**",
            "/oauth2/consent",
            "/oauth2/authorization/*",
            "/login/oauth2/code/*",
            "/login/webauthn",
            "/login/webauthn.js",
            "/webauthn/**",
            "/cas/**")
        .authenticationManager(manager)
        // Passkey ceremonies' JSON read only so far, before Spring's WebAuthn filters parse it.
        .addFilterBefore(
            new io.yinxin.sso.web.PasskeyBodyLimit(),
            org.springframework.security.web.csrf.CsrfFilter.class)
        // The sign-in form's fields once each, before Spring's form login reads the first.
        .addFilterBefore(
            new io.yinxin.sso.web.OneValueSignIn(),
            org.springframework.security.web.authentication.UsernamePasswordAuthenticationFilter
                .class)
        .addFilterAfter(
            new io.yinxin.sso.web.SignInLifetime(
                properties.sessionMaxLifetime(), java.time.Clock.systemUTC()),
            org.springframework.security.web.context.SecurityContextHolderFilter.class)
        .addFilterAfter(
            secondFactor.enrolmentFilter(),
            org.springframework.security.web.context.SecurityContextHolderFilter.class)
        // Before the passkey filters (which sit around the authorization filter): changing how
        // the account signs in needs a recent sign-in.
        .addFilterBefore(
            new io.yinxin.sso.web.RecentSignIn(
                properties.credentialChangeMaxAge(), java.time.Clock.systemUTC()),
            org.springframework.security.web.access.ExceptionTranslationFilter.class)
        .authorizeHttpRequests(
            a ->
                a.requestMatchers(
                        "/account",
                        "/account/**",
                        "/oauth2/consent",
                        "/activate",
                        "/webauthn/register",
                        "/webauthn/register/**")
                    .authenticated()
                    .anyRequest()
                    .permitAll())
        .formLogin(
            f ->
                f.loginPage("/login")
                    .authenticationDetailsSource(
                        io.yinxin.sso.account.DeviceCookies.detailsSource())
                    .successHandler(secondFactor)
                    .failureHandler(accountPages.failureHandler())
                    .permitAll())
        .oauth2Login(
            o ->
                o.loginPage("/login")
                    .clientRegistrationRepository(upstreams)
                    .authorizedClientRepository(
                        new io.yinxin.sso.federation.UpstreamTokensNotKept())
                    .failureHandler(io.yinxin.sso.web.AccountPages.toErrorPage()))
        .logout(
            l ->
                l.addLogoutHandler(
                        (request, response, authentication) -> {
                          if (authentication != null) {
                            request.setAttribute(
                                FRONT_CHANNEL,
                                backChannel.signedOut(
                                    authentication.getName(), issuer(properties, request)));
                          }
                        })
                    .logoutSuccessHandler(
                        (request, response, authentication) -> {
                          if (request.getAttribute(FRONT_CHANNEL) instanceof List<?> front
                              && !front.isEmpty()) {
                            io.yinxin.sso.web.LogoutPage.write(
                                request,
                                response,
                                front.stream().map(String::valueOf).toList(),
                                "/login?logout");
                          } else {
                            response.sendRedirect("/login?logout");
                          }
                        }));
    var ceremonies = new io.yinxin.sso.web.PasskeyCeremonies(java.time.Clock.systemUTC());
    if (!properties.passkeysRpId().isBlank()) {
      // Passkeys: Spring Security's WebAuthn relying party, credentials in sso.user_credentials;
      // Yinxin's own pages register them (/webauthn/register) and offer them on /login. Its
      // provider loads the account but does not look at whether it is enabled: this does.
      http.setSharedObject(
          org.springframework.security.core.userdetails.UserDetailsService.class,
          username -> {
            var found = accounts.loadUserByUsername(username);
            if (!found.isEnabled()) {
              throw new org.springframework.security.authentication.DisabledException(
                  "account disabled");
            }
            return found;
          });
      http.webAuthn(
          w ->
              w.rpName("印信 Yinxin")
                  .rpId(properties.passkeysRpId())
                  .allowedOrigins(java.util.Set.copyOf(properties.passkeysOrigins()))
                  .creationOptionsRepository(ceremonies.creations())
                  .disableDefaultRegistrationPage(true));
    }
    var chain = http.build();
    // Spring keeps sign-in ceremonies in the session as objects a stored session cannot hold
    // faithfully (PasskeyCeremonies says why), and offers no setting for it: set it on the two
    // filters that use it.
    for (jakarta.servlet.Filter f : chain.getFilters()) {
      if (f
          instanceof
          org.springframework.security.web.webauthn.authentication
                  .PublicKeyCredentialRequestOptionsFilter
              o) {
        o.setRequestOptionsRepository(ceremonies.requests());
      } else if (f
          instanceof
          org.springframework.security.web.webauthn.authentication.WebAuthnAuthenticationFilter a) {
        a.setRequestOptionsRepository(ceremonies.requests());
        // Passkey sign-ins are audited like the others: success by the filter's event, failure
        // here (Spring's own manager for passkeys publishes neither).
        a.setApplicationEventPublisher(events);
        a.setAuthenticationFailureHandler(
            (request, response, exception) -> {
              loginAudit.passkeyFailed(request.getRemoteAddr());
              response.sendError(401);
            });
      }
    }
    return chain;
  }

  @Bean
  org.springframework.security.web.webauthn.management.PublicKeyCredentialUserEntityRepository
      ssoPasskeyUsers(SsoSchema schema) {
    return new org.springframework.security.web.webauthn.management
        .JdbcPublicKeyCredentialUserEntityRepository(new JdbcTemplate(schema.dataSource()));
  }

  @Bean
  org.springframework.security.web.webauthn.management.UserCredentialRepository ssoPasskeys(
      SsoSchema schema) {
    return new org.springframework.security.web.webauthn.management.JdbcUserCredentialRepository(
        new JdbcTemplate(schema.dataSource()));
  }

  @Bean
  io.yinxin.sso.web.PasskeyPages ssoPasskeyPages(
      SsoProperties p,
      org.springframework.security.web.webauthn.management.PublicKeyCredentialUserEntityRepository
          users,
      org.springframework.security.web.webauthn.management.UserCredentialRepository passkeys) {
    return new io.yinxin.sso.web.PasskeyPages(!p.passkeysRpId().isBlank(), users, passkeys);
  }

  /**
   * The data protection key of personal data: {@code yinxin.sso.data-key}, or {@code
   * <key-backend>:sso-personal-data} (on a PKCS#11 token, the signing keys' token), created at
   * first start.
   */
  @Bean
  io.yinxin.sso.realname.PersonalData ssoPersonalData(
      SsoProperties p,
      KeyService keys,
      SigningKeys signing,
      DataSource dataSource,
      SsoSchema schema) {
    KeyRef ref;
    if (!p.dataKey().isBlank()) {
      ref = KeyRef.parse(p.dataKey());
      if (keys.dataKey(ref).isEmpty()) {
        throw new IllegalStateException("yinxin.sso.data-key names no data protection key");
      }
    } else {
      KeyRef.Scheme scheme = signing.all().get(0).ref().scheme();
      String label = "sso-personal-data";
      ref =
          switch (scheme) {
            case PKCS11 -> KeyRef.pkcs11(signing.all().get(0).ref().token(), label);
            case VAULT_TRANSIT -> KeyRef.vault(label);
            default -> KeyRef.soft(label);
          };
      if (keys.dataKey(ref).isEmpty()) {
        ref = keys.generateDataKey(scheme, p.dataKeyType(), label);
        log.info("event=sso_data_key_created key={} type={}", ref, p.dataKeyType());
      }
    }
    return new io.yinxin.sso.realname.PersonalData(keys, ref, dataSource);
  }

  @Bean
  io.yinxin.sso.realname.RealNames ssoRealNames(
      DataSource dataSource,
      io.yinxin.sso.realname.PersonalData data,
      io.yinxin.audit.AuditOutbox audit) {
    return new io.yinxin.sso.realname.RealNames(
        dataSource, data, audit, java.time.Clock.systemUTC());
  }

  @Bean
  io.yinxin.sso.realname.RealNameClaims ssoRealNameClaims(
      io.yinxin.sso.realname.RealNames realNames, AuditLog audit) {
    return new io.yinxin.sso.realname.RealNameClaims(realNames, audit);
  }

  @Bean
  io.yinxin.sso.cas.CasServices ssoCasServices(
      DataSource dataSource, SsoSchema schema, io.yinxin.audit.AuditOutbox audit) {
    return new io.yinxin.sso.cas.CasServices(dataSource, audit, java.time.Clock.systemUTC());
  }

  @Bean
  io.yinxin.sso.cas.CasTickets ssoCasTickets(
      DataSource dataSource, SsoSchema schema, io.yinxin.audit.AuditOutbox audit) {
    return new io.yinxin.sso.cas.CasTickets(dataSource, audit);
  }

  /** CAS 3.0 for older portals; signing out there signs out of the OpenID clients too. */
  @Bean
  io.yinxin.sso.cas.CasEndpoints ssoCasEndpoints(
      io.yinxin.sso.cas.CasServices services,
      io.yinxin.sso.cas.CasTickets tickets,
      io.yinxin.sso.account.Accounts accounts,
      io.yinxin.sso.token.BackChannelLogout backChannel,
      SsoProperties properties) {
    return new io.yinxin.sso.cas.CasEndpoints(
        services,
        tickets,
        accounts,
        (who, request) -> backChannel.signedOut(who, issuer(properties, request)));
  }

  /** The CA certificates {@code tls_client_auth} clients' certificates must chain to, if any. */
  private static java.util.Optional<io.yinxin.sso.certificate.CertificateChain> clientCa(
      SsoProperties p) {
    if (p.clientCa().isBlank()) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(
        new io.yinxin.sso.certificate.CertificateChain(
            io.yinxin.sso.certificate.CitizenCertificates.readPem(Path.of(p.clientCa())),
            new io.yinxin.sso.certificate.OcspStatus(java.time.Clock.systemUTC(), 10_000),
            java.time.Clock.systemUTC()));
  }

  /** Citizen certificate sign-in, when a port and the citizen CA are configured. */
  @Bean
  @ConditionalOnProperty(prefix = "yinxin.sso", name = "citizen-ca")
  io.yinxin.sso.certificate.CertificateLogin ssoCertificateLogin(
      SsoProperties p,
      io.yinxin.sso.realname.RealNames realNames,
      io.yinxin.sso.account.Accounts accounts,
      io.yinxin.sso.account.SignIns signIns,
      AuditLog audit,
      io.yinxin.sso.account.LoginAudit loginAudit) {
    var certificates =
        new io.yinxin.sso.certificate.CitizenCertificates(
            io.yinxin.sso.certificate.CitizenCertificates.readPem(Path.of(p.citizenCa())),
            new io.yinxin.sso.certificate.OcspStatus(java.time.Clock.systemUTC(), 100_000),
            realNames,
            java.time.Clock.systemUTC());
    return new io.yinxin.sso.certificate.CertificateLogin(
        certificates, accounts, signIns, audit, loginAudit, java.time.Clock.systemUTC());
  }

  /**
   * The mutual-TLS port beside the node's own: citizen certificate sign-in (with {@code
   * yinxin.sso.citizen-ca}) and clients that authenticate with their certificate (RFC 8705).
   */
  @Bean
  @ConditionalOnProperty(prefix = "yinxin.sso", name = "certificate-login-port")
  org.springframework.boot.web.server.WebServerFactoryCustomizer<
          org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory>
      ssoCertificateLoginPort(SsoProperties p, Environment env) {
    return factory -> {
      if (p.certificateLoginPort() <= 0) {
        return;
      }
      io.yinxin.hsm.TlsServerKeys.Pkcs12 key;
      if (!p.tlsKeyStore().isBlank()) {
        key =
            io.yinxin.hsm.TlsServerKeys.existing(Path.of(p.tlsKeyStore()), p.tlsKeyStorePassword());
      } else if (p.generateDemoClient()) {
        key = io.yinxin.hsm.TlsServerKeys.development(dataDir(env));
      } else {
        throw new IllegalStateException(
            "yinxin.sso.certificate-login-port needs yinxin.sso.tls-key-store (PKCS#12)");
      }
      factory.addAdditionalConnectors(
          io.yinxin.sso.certificate.CertificateLoginPort.connector(
              p.certificateLoginPort(), env.getProperty("server.address"), key, limits(env)));
    };
  }

  /** The main connector's timeouts and header limit, for the certificate port too. */
  private static io.yinxin.sso.certificate.CertificateLoginPort.Limits limits(Environment env) {
    var binder = org.springframework.boot.context.properties.bind.Binder.get(env);
    return new io.yinxin.sso.certificate.CertificateLoginPort.Limits(
        binder
            .bind("server.tomcat.connection-timeout", Duration.class)
            .map(Optional::of)
            .orElse(Optional.empty()),
        binder
            .bind("server.tomcat.keep-alive-timeout", Duration.class)
            .map(Optional::of)
            .orElse(Optional.empty()),
        binder
            .bind(
                "server.max-http-request-header-size", org.springframework.util.unit.DataSize.class)
            .map(d -> java.util.OptionalLong.of(d.toBytes()))
            .orElse(java.util.OptionalLong.empty()));
  }

  @Bean
  io.yinxin.sso.federation.Upstreams ssoUpstreams(SsoProperties p) {
    return new io.yinxin.sso.federation.Upstreams(p.upstreams());
  }

  @Bean
  io.yinxin.sso.federation.FederatedUsers ssoFederatedUsers(
      io.yinxin.sso.realname.RealNames realNames, io.yinxin.sso.account.Accounts accounts) {
    return new io.yinxin.sso.federation.FederatedUsers(
        realNames, accounts::isEnabled, java.time.Clock.systemUTC());
  }

  @Bean
  io.yinxin.sso.account.SignIns ssoSignIns(DataSource dataSource, SsoSchema schema) {
    return new io.yinxin.sso.account.SignIns(dataSource, java.time.Clock.systemUTC());
  }

  @Bean
  io.yinxin.sso.web.AccountPages ssoAccountPages(
      io.yinxin.sso.account.Accounts accounts,
      io.yinxin.sso.account.SecondFactors factors,
      io.yinxin.sso.realname.RealNames realNames,
      io.yinxin.sso.account.SignIns signIns,
      SsoSessions sessions,
      AuditLog audit,
      io.yinxin.sso.federation.Upstreams upstreams,
      SsoProperties p,
      DataSource dataSource,
      RegisteredClientRepository clients,
      io.yinxin.audit.AuditOutbox outbox,
      io.yinxin.sso.account.LoginThrottle throttle) {
    return new io.yinxin.sso.web.AccountPages(
        accounts,
        factors,
        realNames,
        signIns,
        sessions,
        audit,
        java.time.Clock.systemUTC(),
        upstreams,
        !p.passkeysRpId().isBlank(),
        new io.yinxin.sso.account.ConnectedApps(dataSource, clients),
        outbox,
        throttle,
        p.credentialChangeMaxAge());
  }

  /**
   * The administrator account {@code admin}, created at first start (on every kind of node) with a
   * one-time password printed once to the console (not to the log) and replaced at its first
   * sign-in.
   */
  @Bean
  Object ssoAdministrator(io.yinxin.sso.account.Accounts accounts) {
    accounts
        .createAdministrator("admin")
        .ifPresent(
            password -> {
              log.info("event=sso_administrator_created username=admin");
              System.out.println(
                  "\n印信 Yinxin: administrator account \"admin\" created; one-time password: "
                      + password
                      + "\n(shown once; it must be replaced at the first sign-in)\n");
            });
    return "ssoAdministrator";
  }

  @Bean
  io.yinxin.sso.account.SecondFactors ssoSecondFactors(
      DataSource dataSource, SsoSchema schema, io.yinxin.sso.realname.PersonalData sealer) {
    return new io.yinxin.sso.account.SecondFactors(dataSource, sealer, java.time.Clock.systemUTC());
  }

  @Bean
  io.yinxin.sso.account.SecondFactorLogin ssoSecondFactorLogin(
      io.yinxin.sso.account.SecondFactors factors,
      io.yinxin.sso.account.Accounts accounts,
      io.yinxin.sso.account.LoginThrottle throttle,
      AuditLog audit,
      io.yinxin.sso.account.SignIns signIns,
      io.yinxin.sso.account.DeviceCookies devices,
      SsoProperties p) {
    return new io.yinxin.sso.account.SecondFactorLogin(
        factors,
        accounts,
        throttle,
        audit,
        signIns,
        devices,
        io.yinxin.sso.account.SecondFactorLogin.Policy.parse(p.secondFactorRequired()),
        java.time.Clock.systemUTC());
  }

  @Bean
  io.yinxin.sso.web.SecondFactorPages ssoSecondFactorPages(
      io.yinxin.sso.account.SecondFactorLogin login,
      io.yinxin.sso.account.SecondFactors factors,
      AuditLog audit) {
    return new io.yinxin.sso.web.SecondFactorPages(login, factors, audit, "印信 Yinxin");
  }

  @Bean
  io.yinxin.sso.token.BackChannelLogout ssoBackChannelLogout(
      DataSource dataSource,
      SsoSchema schema,
      RegisteredClientRepository clients,
      JwtEncoder encoder,
      AuditLog audit) {
    return new io.yinxin.sso.token.BackChannelLogout(
        dataSource, clients, encoder, audit, java.time.Clock.systemUTC());
  }

  /**
   * What discovery says beyond Spring's defaults: only the client authentication methods a client
   * can register here, certificate-bound tokens, and (with the certificate port) where a client
   * presents its certificate (RFC 8705 §5).
   */
  private static void discovery(Map<String, Object> metadata, SsoProperties properties) {
    for (String k :
        List.of(
            "token_endpoint_auth_methods_supported",
            "revocation_endpoint_auth_methods_supported",
            "introspection_endpoint_auth_methods_supported")) {
      metadata.put(k, CLIENT_AUTH_METHODS);
    }
    metadata.put("tls_client_certificate_bound_access_tokens", true);
    // RS256 for every client by default (OpenID Connect's), ES256 for a client that registers it.
    metadata.put("id_token_signing_alg_values_supported", List.of("RS256", "ES256"));
    // What the pages speak (ui_locales), the levels ID tokens state (acr), the prompts acted on.
    metadata.put("ui_locales_supported", List.of("zh-CN", "en"));
    metadata.put(
        "acr_values_supported",
        List.of(
            io.yinxin.sso.token.AuthenticationMethods.ONE_FACTOR,
            io.yinxin.sso.token.AuthenticationMethods.TWO_FACTORS));
    metadata.put("prompt_values_supported", List.of("none", "login", "consent"));
    metadata.put("claims_parameter_supported", false);
    if (properties.certificateLoginPort() > 0) {
      java.net.URI issuer =
          java.net.URI.create(
              org.springframework.security.oauth2.server.authorization.context
                  .AuthorizationServerContextHolder.getContext()
                  .getIssuer());
      // Where a client authenticates with its certificate, and where a certificate-bound token
      // is used with it (RFC 8705 §5).
      String tls = "https://" + issuer.getHost() + ":" + properties.certificateLoginPort();
      Map<String, Object> aliases = new java.util.LinkedHashMap<>();
      aliases.put("token_endpoint", tls + "/oauth2/token");
      aliases.put("revocation_endpoint", tls + "/oauth2/revoke");
      aliases.put("introspection_endpoint", tls + "/oauth2/introspect");
      aliases.put("pushed_authorization_request_endpoint", tls + "/oauth2/par");
      aliases.put("device_authorization_endpoint", tls + "/oauth2/device_authorization");
      aliases.put("userinfo_endpoint", tls + "/userinfo");
      metadata.put("mtls_endpoint_aliases", aliases);
    }
  }

  private static final List<String> CLIENT_AUTH_METHODS =
      List.of(
          "client_secret_basic",
          "client_secret_post",
          "private_key_jwt",
          "self_signed_tls_client_auth",
          "tls_client_auth",
          "none");

  private static final String FRONT_CHANNEL = SsoAutoConfiguration.class.getName() + ".front";

  /** The issuer: configured, or (embedded default) the URL the request came to. */
  private static String issuer(SsoProperties p, jakarta.servlet.http.HttpServletRequest request) {
    if (!p.issuer().isBlank()) {
      return p.issuer();
    }
    return org.springframework.web.util.UriComponentsBuilder.fromUriString(
            request.getRequestURL().toString())
        .replacePath(null)
        .replaceQuery(null)
        .build()
        .toUriString();
  }

  /** Sessions and sign-in failures as gauges (yinxin_sso_*), when Micrometer is present. */
  @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
  @org.springframework.boot.autoconfigure.condition.ConditionalOnClass(
      name = "io.micrometer.core.instrument.binder.MeterBinder")
  static class MetricsConfiguration {
    @Bean
    SsoStateMetrics ssoStateMetrics(DataSource dataSource, SsoProperties p, SsoSessions sessions) {
      SsoStateMetrics m =
          new SsoStateMetrics(dataSource, p.sessionsRedisUrl().isBlank(), LOGIN_THROTTLE_WINDOW);
      m.countRedisSessionsWith(sessions::signedInInRedis);
      return m;
    }
  }

  private static final Duration LOGIN_THROTTLE_WINDOW = Duration.ofMinutes(15);

  /**
   * Five failures per account or twenty per address in 15 minutes block it for 15 minutes; counts
   * that no longer matter are deleted every five minutes.
   */
  @Bean(destroyMethod = "close")
  io.yinxin.sso.account.LoginThrottle ssoLoginThrottle(DataSource dataSource, SsoSchema schema) {
    return new io.yinxin.sso.account.LoginThrottle(
            dataSource,
            5,
            20,
            LOGIN_THROTTLE_WINDOW,
            Duration.ofMinutes(15),
            java.time.Clock.systemUTC())
        .forgettingEvery(Duration.ofMinutes(5));
  }

  /** Wrong device codes per account: ten in the throttle's window block its device codes. */
  @Bean
  io.yinxin.sso.web.DeviceCodeGuesses ssoDeviceCodeGuesses(
      io.yinxin.sso.account.LoginThrottle throttle) {
    return new io.yinxin.sso.web.DeviceCodeGuesses(throttle);
  }

  @Bean
  io.yinxin.sso.web.ConsentPage ssoConsentPage(
      RegisteredClientRepository clients, OAuth2AuthorizationConsentService consents) {
    return new io.yinxin.sso.web.ConsentPage(clients, consents);
  }

  /** Error pages for browsers, in Chinese and English, in place of Spring's Whitelabel page. */
  @Bean
  io.yinxin.sso.web.ErrorPage ssoErrorPage(
      org.springframework.boot.webmvc.error.ErrorAttributes errors) {
    return new io.yinxin.sso.web.ErrorPage(errors);
  }

  @Bean
  io.yinxin.sso.web.DevicePage ssoDevicePage(io.yinxin.sso.web.DeviceCodeGuesses guesses) {
    return new io.yinxin.sso.web.DevicePage(guesses);
  }

  @Bean
  io.yinxin.sso.web.LoginPage ssoLoginPage(
      SsoProperties p, io.yinxin.sso.federation.Upstreams upstreams) {
    Map<String, String> names = new java.util.LinkedHashMap<>();
    upstreams.all().forEach(u -> names.put(u.id(), u.name() == null ? u.id() : u.name()));
    return new io.yinxin.sso.web.LoginPage(
        p.citizenCa().isBlank() ? 0 : p.certificateLoginPort(),
        names,
        !p.passkeysRpId().isBlank(),
        p.credentialChangeMaxAge().multipliedBy(io.yinxin.sso.web.RecentSignIn.CHANGE_WITHIN));
  }

  @Bean(destroyMethod = "close")
  io.yinxin.sso.account.LoginAudit ssoLoginAudit(
      AuditLog audit, io.yinxin.sso.account.SignIns signIns) {
    return new io.yinxin.sso.account.LoginAudit(audit, signIns);
  }

  /**
   * Records the counted sign-in failures (throttled, passkey, upstream) once a minute ({@link
   * io.yinxin.sso.account.LoginAudit#recordTally}); the rest when the node stops.
   */
  @Bean(destroyMethod = "shutdownNow")
  java.util.concurrent.ScheduledExecutorService ssoLoginFailureTally(
      io.yinxin.sso.account.LoginAudit loginAudit) {
    java.util.concurrent.ScheduledExecutorService s =
        io.yinxin.hsm.Schedulers.daemon("sso-login-failure-tally");
    s.scheduleWithFixedDelay(
        () -> {
          try {
            loginAudit.recordTally();
          } catch (RuntimeException e) {
            log.warn(
                "event=sso_login_failure_tally_failed reason={}", e.getClass().getSimpleName());
          }
        },
        1,
        1,
        java.util.concurrent.TimeUnit.MINUTES);
    return s;
  }

  /** The embedded default's demo user (no second factor), its password in an owner-only file. */
  @Bean
  io.yinxin.sso.account.DemoUser ssoDemoUser(
      SsoProperties p, Environment env, io.yinxin.sso.account.Accounts accounts) {
    if (!p.generateDemoClient()) {
      return new io.yinxin.sso.account.DemoUser("demo", Optional.empty());
    }
    String password =
        ownerOnly(
            dataDir(env).resolve("sso-demo-user.properties"),
            () -> Base64.getUrlEncoder().withoutPadding().encodeToString(random32()));
    if (!accounts.exists("demo")) {
      accounts.create("demo", password, "演示用户 Demo User");
      log.info("event=sso_demo_user_created username=demo");
    }
    return new io.yinxin.sso.account.DemoUser("demo", Optional.of(password));
  }

  /**
   * Spring Security's filter runs on the provider's paths only. Boot would register it for every
   * request, and its firewall would then judge the other modules' URLs too (an OCSP GET request
   * carries base64 with encoded slashes); ops excludes Boot's registration and this one takes its
   * place.
   */
  @Bean
  org.springframework.boot.web.servlet.DelegatingFilterProxyRegistrationBean
      ssoSecurityFilterRegistration() {
    // Registering the bean by name also keeps Boot from adding it, as a Filter bean, for "/*".
    var registration =
        new org.springframework.boot.web.servlet.DelegatingFilterProxyRegistrationBean(
            "springSecurityFilterChain");
    registration.setName("ssoSecurityFilterChain");
    registration.setOrder(-100);
    registration.addUrlPatterns(PATHS);
    registration.setDispatcherTypes(DISPATCHES);
    return registration;
  }

  /** Every path the provider serves: its filters (sessions, Spring Security) run on these only. */
  static final String[] PATHS = {
    "/oauth2/*",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/.well-known/oauth-authorization-server/*",
    "/userinfo",
    "/connect/*",
    "/login",
    "/login/*",
    "/logout",
    "/activate",
    "/webauthn/*",
    "/account",
    "/account/*",
    "/cas/*",
    "/cas/p3/*"
  };

  /** No in-memory registry of sessions beside Spring Session's (see {@link UntrackedSessions}). */
  @Bean
  org.springframework.security.core.session.SessionRegistry ssoSessionRegistry() {
    return new UntrackedSessions();
  }

  /**
   * Created when the web server starts (its filter is), so it must not touch the database then: no
   * dependency on the schema's migration, which a request will find done.
   */
  @Bean(destroyMethod = "close")
  SsoSessions ssoSessions(DataSource dataSource, SsoProperties p) {
    if (!p.sessionsRedisUrl().isBlank()) {
      java.net.URI redis = java.net.URI.create(p.sessionsRedisUrl());
      if (!"redis".equals(redis.getScheme()) || redis.getHost() == null) {
        throw new IllegalStateException(
            "yinxin.sso.sessions-redis-url: redis://[:password@]host:port[/db]");
      }
      return new SsoSessions(redis, Duration.ofMinutes(30));
    }
    return new SsoSessions(dataSource, Duration.ofMinutes(30));
  }

  /** Device codes within each address's budget, before Spring reads the request. */
  @Bean
  org.springframework.boot.web.servlet.FilterRegistrationBean<?> ssoDeviceAuthorizationBudget(
      SsoProperties p) {
    var registration =
        new org.springframework.boot.web.servlet.FilterRegistrationBean<>(
            new DeviceAuthorizationBudget(p.deviceAuthorizationsPerMinute(), System::nanoTime));
    registration.setName("ssoDeviceAuthorizationBudget");
    registration.setOrder(-300);
    registration.addUrlPatterns("/oauth2/device_authorization");
    return registration;
  }

  /**
   * Sessions from the database, before Spring Security reads its context from them; new ones within
   * each address's budget ({@code yinxin.sso.new-sessions-per-minute}).
   */
  @Bean
  org.springframework.boot.web.servlet.FilterRegistrationBean<?> ssoSessionFilter(
      SsoSessions sessions, SsoProperties p) {
    var registration =
        new org.springframework.boot.web.servlet.FilterRegistrationBean<>(
            sessions.filter(new NewSessionBudget(p.newSessionsPerMinute(), System::nanoTime)));
    registration.setName("ssoSessionFilter");
    registration.setOrder(-200);
    registration.addUrlPatterns(PATHS);
    registration.setDispatcherTypes(DISPATCHES);
    return registration;
  }

  /**
   * The dispatches the provider's filters run on: a request, and an asynchronous dispatch, which is
   * how a node that reads small bodies before a request thread takes them (ops' {@code
   * BodyReadAhead}) hands the request on once its body is in. The filters' own default is the
   * request alone (neither is a Spring {@code OncePerRequestFilter}).
   */
  private static final java.util.EnumSet<jakarta.servlet.DispatcherType> DISPATCHES =
      java.util.EnumSet.of(
          jakarta.servlet.DispatcherType.REQUEST, jakarta.servlet.DispatcherType.ASYNC);

  /**
   * Who may manage clients: {@code yinxin.sso.admin-token-sha256}, or on the embedded default a
   * token generated into an owner-only file; and this provider's access tokens with scope {@code
   * sso:admin}.
   */
  @Bean
  io.yinxin.sso.http.SsoAdmins ssoAdmins(SsoProperties p, Environment env, JwtDecoder decoder) {
    if (!p.adminTokenSha256().isBlank()) {
      if (!p.adminTokenSha256().matches("[0-9a-fA-F]{64}")) {
        throw new IllegalStateException("yinxin.sso.admin-token-sha256: 64 hex characters");
      }
      return new io.yinxin.sso.http.SsoAdmins(
          HexFormat.of().parseHex(p.adminTokenSha256()), decoder, Optional.empty());
    }
    if (!p.generateDemoClient()) {
      return new io.yinxin.sso.http.SsoAdmins(new byte[0], decoder, Optional.empty());
    }
    String token =
        ownerOnly(
            dataDir(env).resolve("sso-admin-token.properties"),
            () -> "yx_" + HexFormat.of().formatHex(random32()));
    return new io.yinxin.sso.http.SsoAdmins(
        io.yinxin.sso.http.SsoAdmins.sha256(token.getBytes(StandardCharsets.UTF_8)),
        decoder,
        Optional.of(token));
  }

  @Bean
  io.yinxin.sso.client.ClientAdmin ssoClientAdmin(
      SsoSchema schema,
      io.yinxin.audit.AuditOutbox audit,
      KeyedSecretEncoder secrets,
      io.yinxin.sso.client.CachedClients clients) {
    return new io.yinxin.sso.client.ClientAdmin(
        schema.dataSource(), audit, secrets, java.time.Clock.systemUTC(), clients);
  }

  @Bean
  io.yinxin.sso.http.ClientAdminController ssoClientAdminController(
      io.yinxin.sso.client.ClientAdmin clients,
      io.yinxin.sso.cas.CasServices casServices,
      io.yinxin.sso.realname.RealNames realNames,
      io.yinxin.sso.token.KeyRotation keys,
      io.yinxin.sso.http.SsoAdmins admins,
      io.yinxin.sso.account.Accounts accounts,
      io.yinxin.audit.AuditOutbox audit,
      io.yinxin.sso.account.SecondFactors factors,
      SsoSessions sessions,
      io.yinxin.sso.token.BackChannelLogout backChannel,
      io.yinxin.sso.account.LoginThrottle throttle,
      SsoProperties properties) {
    return new io.yinxin.sso.http.ClientAdminController(
        clients,
        casServices,
        realNames,
        keys,
        admins,
        accounts,
        audit,
        factors,
        throttle,
        (who, request) -> {
          sessions.endOthers(who, null); // every session: none is kept
          backChannel.signedOut(who, issuer(properties, request));
        });
  }

  /** The embedded default's demo client, registered once; its secret in an owner-only file. */
  @Bean
  DemoClient ssoDemoClient(
      SsoProperties p,
      Environment env,
      RegisteredClientRepository clients,
      KeyedSecretEncoder secrets) {
    String id = "yinxin-demo";
    if (!p.generateDemoClient()) {
      return new DemoClient(id, Optional.empty());
    }
    Path file = dataDir(env).resolve("sso-demo-client.properties");
    String secret = ownerOnly(file, () -> HexFormat.of().formatHex(random32()));
    if (clients.findByClientId(id) == null) {
      clients.save(
          RegisteredClient.withId(UUID.randomUUID().toString())
              .clientId(id)
              .clientName("Yinxin demo client")
              .clientSecret(secrets.encode(secret))
              .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
              .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST)
              .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
              .authorizationGrantType(AuthorizationGrantType.REFRESH_TOKEN)
              .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
              .redirectUri("http://127.0.0.1:8000/callback")
              .scope(OidcScopes.OPENID)
              .scope(OidcScopes.PROFILE)
              .scope("realname")
              .clientSettings(
                  ClientSettings.builder()
                      .requireProofKey(true)
                      .requireAuthorizationConsent(true)
                      .build())
              .tokenSettings(
                  TokenSettings.builder()
                      .accessTokenFormat(OAuth2TokenFormat.SELF_CONTAINED)
                      .accessTokenTimeToLive(p.accessTokenTtl())
                      .refreshTokenTimeToLive(Duration.ofHours(8))
                      .reuseRefreshTokens(false)
                      .build())
              .build());
      log.info("event=sso_demo_client_registered client={}", id);
    }
    return new DemoClient(id, Optional.of(secret));
  }

  private static Path dataDir(Environment env) {
    return Path.of(env.getProperty("yinxin.data-dir", "./data"));
  }

  private static byte[] random32() {
    byte[] b = new byte[32];
    Randomness.current().nextBytes(b);
    return b;
  }

  private static String base64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  /** The value in {@code file} (mode 600), created with {@code fresh} when missing. */
  private static String ownerOnly(Path file, java.util.function.Supplier<String> fresh) {
    try {
      return io.yinxin.hsm.OwnerOnlyFiles.createOrLoad(
              file,
              () -> {
                Properties p = new Properties();
                p.setProperty("value", fresh.get());
                return p;
              },
              "Yinxin development secret (sso-service)")
          .getProperty("value");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + file, e);
    }
  }
}
