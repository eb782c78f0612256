package io.yinxin.sso.token;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.sso.client.ClientMetadata;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;

/**
 * Signing out everywhere (OpenID Connect Back-Channel and Front-Channel Logout 1.0, which the
 * upstream server lacks): when a person signs out, every client that holds an authorization of
 * theirs and registered a {@code backchannel_logout_uri} is sent a logout token — a JWT of type
 * {@code logout+jwt} signed like the client's ID tokens (RS256, or ES256 if it registered that),
 * with {@code iss}, {@code aud} (the client), {@code iat}, {@code exp}, {@code jti}, {@code sub}
 * and the back-channel logout event, never a {@code nonce} — by a POST of {@code logout_token};
 * then all of the person's authorizations are deleted, so their access and refresh tokens stop
 * working at once. The sign-out is a {@code LOGGED_OUT} audit event naming the clients told and
 * what each answered.
 */
public final class BackChannelLogout {
  static final String EVENT = "http://schemas.openid.net/event/backchannel-logout";

  private final DataSource dataSource;
  private final RegisteredClientRepository clients;
  private final JwtEncoder encoder;
  private final AuditLog audit;
  private final Clock clock;
  private final HttpClient http =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();

  public BackChannelLogout(
      DataSource dataSource,
      RegisteredClientRepository clients,
      JwtEncoder encoder,
      AuditLog audit,
      Clock clock) {
    this.dataSource = dataSource;
    this.clients = clients;
    this.encoder = encoder;
    this.audit = audit;
    this.clock = clock;
  }

  /**
   * Ends {@code username}'s tokens everywhere and tells the clients: a logout token to each
   * back-channel URI now, and the front-channel URIs (OpenID Front-Channel Logout 1.0, with {@code
   * iss}) returned for the browser to load.
   *
   * @param issuer this provider's issuer as the request named it
   * @return the front-channel logout URLs of the clients that held the person's tokens
   */
  public List<String> signedOut(String username, String issuer) {
    List<String> clientIds = new ArrayList<>();
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT DISTINCT registered_client_id FROM sso.oauth2_authorization WHERE"
                  + " principal_name = ?")) {
        ps.setString(1, username);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            clientIds.add(rs.getString(1));
          }
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement("DELETE FROM sso.oauth2_authorization WHERE principal_name = ?")) {
        ps.setString(1, username);
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot end the sessions' tokens", e);
    }
    Map<String, String> told = new LinkedHashMap<>();
    List<String> front = new ArrayList<>();
    List<String> frontClients = new ArrayList<>();
    for (String id : clientIds) {
      RegisteredClient client = clients.findById(id);
      if (client == null) {
        continue;
      }
      if (client.getClientSettings().getSetting(ClientMetadata.BACKCHANNEL) instanceof String t) {
        told.put(client.getClientId(), send(client, t, username, issuer));
      }
      if (client.getClientSettings().getSetting(ClientMetadata.FRONTCHANNEL) instanceof String f) {
        front.add(
            f
                + (f.contains("?") ? "&" : "?")
                + "iss="
                + URLEncoder.encode(issuer, StandardCharsets.UTF_8));
        frontClients.add(client.getClientId());
      }
    }
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("method", "logout");
    attributes.put("clients", told.isEmpty() ? "-" : String.join(" ", told.keySet()));
    told.forEach((k, v) -> attributes.put("backchannel." + k, v));
    if (!frontClients.isEmpty()) {
      attributes.put("frontchannel", String.join(" ", frontClients));
    }
    audit.append(AuditEvent.of(EventType.LOGGED_OUT, username, username, attributes));
    return front;
  }

  /** Sends one logout token; the answer's status, or why there was none. */
  private String send(RegisteredClient client, String target, String username, String issuer) {
    String clientId = client.getClientId();
    // Signed as this client's ID tokens are (RS256 unless it registered ES256): the client checks
    // a logout token as it checks an ID token.
    SignatureAlgorithm alg = io.yinxin.sso.client.ClientMetadata.idTokenAlgorithm(client);
    Instant now = clock.instant();
    JwtClaimsSet claims =
        JwtClaimsSet.builder()
            .issuer(issuer)
            .audience(List.of(clientId))
            .subject(username)
            .issuedAt(now)
            .expiresAt(now.plus(Duration.ofMinutes(2)))
            .id(UUID.randomUUID().toString())
            .claim("events", Map.of(EVENT, Map.of()))
            .build();
    String token =
        encoder
            .encode(
                JwtEncoderParameters.from(JwsHeader.with(alg).type("logout+jwt").build(), claims))
            .getTokenValue();
    try {
      HttpResponse<Void> r =
          http.send(
              HttpRequest.newBuilder(URI.create(target))
                  .timeout(Duration.ofSeconds(5))
                  .header("Content-Type", "application/x-www-form-urlencoded")
                  .header("Cache-Control", "no-cache, no-store")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "logout_token=" + URLEncoder.encode(token, StandardCharsets.UTF_8)))
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      return Integer.toString(r.statusCode());
    } catch (java.io.IOException e) {
      return "unreachable";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }
}
