package io.yinxin.sso.client;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import io.yinxin.hsm.Randomness;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.security.oauth2.server.authorization.client.JdbcRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;

/**
 * Registering, changing and removing OAuth2 clients. Each change and its {@code CONFIG_CHANGED}
 * audit event are one transaction (the audit outbox), and the change is durable in the log before
 * the caller is answered. Secrets are generated here (256 bits), returned once and stored only as
 * their keyed hash.
 */
public final class ClientAdmin {
  /** A client id an operator may choose: lower-case letters, digits, {@code . _ -}. */
  public static final Pattern CLIENT_ID = Pattern.compile("[a-z0-9][a-z0-9._-]{2,63}");

  /** No such client. */
  public static final class NotFound extends RuntimeException {
    public NotFound() {
      super("no such client", null, false, false);
    }
  }

  /** The client id is taken. */
  public static final class Taken extends RuntimeException {
    public Taken() {
      super("the client_id is taken", null, false, false);
    }
  }

  /** A client as registered, with its secret when one was just made. */
  public record Registered(RegisteredClient client, Optional<String> secret) {}

  private final DataSource inSchema;
  private final AuditOutbox audit;
  private final KeyedSecretEncoder secrets;
  private final Clock clock;

  /**
   * @param inSchema connections in schema {@code sso} (the provider's tables are unqualified)
   */
  public ClientAdmin(
      DataSource inSchema,
      AuditOutbox audit,
      KeyedSecretEncoder secrets,
      Clock clock,
      CachedClients cache) {
    this.inSchema = inSchema;
    this.audit = audit;
    this.secrets = secrets;
    this.clock = clock;
    this.cache = cache;
  }

  private final CachedClients cache;

  /** Registers a client; {@code clientId} empty for a generated one. */
  public Registered create(String actor, Optional<String> clientId, ClientMetadata m) {
    String id = clientId.orElseGet(() -> "yx-" + HexFormat.of().formatHex(random(10)));
    if (!CLIENT_ID.matcher(id).matches()) {
      throw new ClientMetadata.Invalid(
          "invalid_client_metadata", "client_id: 3-64 of a-z 0-9 . _ - (starting a-z or 0-9)");
    }
    Optional<String> secret =
        m.hasSecret() ? Optional.of(HexFormat.of().formatHex(random(32))) : Optional.empty();
    RegisteredClient.Builder b =
        RegisteredClient.withId(UUID.randomUUID().toString())
            .clientId(id)
            .clientIdIssuedAt(clock.instant());
    secret.ifPresent(s -> b.clientSecret(secrets.encode(s)));
    RegisteredClient client = m.apply(b);
    inTransaction(
        c -> {
          JdbcRegisteredClientRepository repo = repository(c);
          if (repo.findByClientId(id) != null) {
            throw new Taken();
          }
          repo.save(client);
          return event(c, actor, id, "client_registered", m);
        });
    return new Registered(client, secret);
  }

  /**
   * Stores a client registered dynamically (its secret already encoded) with its audit event, in
   * one transaction; its id must be new.
   */
  public void saveRegistered(String actor, RegisteredClient client) {
    inTransaction(
        c -> {
          JdbcRegisteredClientRepository repo = repository(c);
          if (repo.findByClientId(client.getClientId()) != null) {
            throw new Taken();
          }
          repo.save(client);
          Map<String, String> details = new LinkedHashMap<>();
          details.put("change", "client_registered_dynamically");
          details.put(
              "grantTypes",
              String.join(
                  " ",
                  client.getAuthorizationGrantTypes().stream()
                      .map(g -> g.getValue())
                      .sorted()
                      .toList()));
          if (!client.getRedirectUris().isEmpty()) {
            details.put("redirectUris", String.join(" ", client.getRedirectUris()));
          }
          if (!client.getScopes().isEmpty()) {
            details.put("scope", String.join(" ", client.getScopes().stream().sorted().toList()));
          }
          return audit.record(
              c,
              AuditEvent.of(
                  EventType.CONFIG_CHANGED, actor, "client/" + client.getClientId(), details));
        });
  }

  /** Replaces a client's metadata; its id and secret stay. */
  public RegisteredClient update(String actor, String clientId, ClientMetadata m) {
    RegisteredClient[] out = new RegisteredClient[1];
    inTransaction(
        c -> {
          JdbcRegisteredClientRepository repo = repository(c);
          RegisteredClient old = existing(repo, clientId);
          if (m.hasSecret() != (old.getClientSecret() != null)) {
            throw new ClientMetadata.Invalid(
                "invalid_client_metadata",
                "token_endpoint_auth_method: a client cannot change between a secret and none"
                    + " or a key; register a new one");
          }
          out[0] = m.apply(RegisteredClient.from(old));
          repo.save(out[0]);
          return event(c, actor, clientId, "client_changed", m);
        });
    return out[0];
  }

  /**
   * A new secret for a confidential client; the old one stops working at once (on other nodes
   * within their client cache's re-check time, {@link CachedClients}).
   */
  public String rotateSecret(String actor, String clientId) {
    String secret = HexFormat.of().formatHex(random(32));
    inTransaction(
        c -> {
          JdbcRegisteredClientRepository repo = repository(c);
          RegisteredClient old = existing(repo, clientId);
          if (old.getClientSecret() == null) {
            throw new ClientMetadata.Invalid(
                "invalid_client_metadata", "a public client has no secret");
          }
          repo.save(RegisteredClient.from(old).clientSecret(secrets.encode(secret)).build());
          return audit.record(
              c,
              AuditEvent.of(
                  EventType.CONFIG_CHANGED,
                  actor,
                  "client/" + clientId,
                  Map.of("change", "client_secret_rotated")));
        });
    return secret;
  }

  /** Removes a client with its authorizations (its tokens stop working) and consents. */
  public void delete(String actor, String clientId) {
    inTransaction(
        c -> {
          RegisteredClient old = existing(repository(c), clientId);
          for (String sql :
              List.of(
                  "DELETE FROM oauth2_authorization WHERE registered_client_id = ?",
                  "DELETE FROM oauth2_authorization_consent WHERE registered_client_id = ?",
                  "DELETE FROM oauth2_registered_client WHERE id = ?")) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
              ps.setString(1, old.getId());
              ps.executeUpdate();
            }
          }
          return audit.record(
              c,
              AuditEvent.of(
                  EventType.CONFIG_CHANGED,
                  actor,
                  "client/" + clientId,
                  Map.of("change", "client_deleted")));
        });
  }

  public Optional<RegisteredClient> find(String clientId) {
    if (!CLIENT_ID.matcher(clientId).matches()) {
      return Optional.empty();
    }
    try (Connection c = inSchema.getConnection()) {
      return Optional.ofNullable(repository(c).findByClientId(clientId));
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "client store unavailable", e);
    }
  }

  /** Every client id, in order. */
  public List<String> list() {
    List<String> ids = new ArrayList<>();
    try (Connection c = inSchema.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT client_id FROM oauth2_registered_client ORDER BY client_id LIMIT 10000");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        ids.add(rs.getString(1));
      }
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "client store unavailable", e);
    }
    return ids;
  }

  private static RegisteredClient existing(JdbcRegisteredClientRepository repo, String clientId) {
    RegisteredClient old =
        CLIENT_ID.matcher(clientId).matches() ? repo.findByClientId(clientId) : null;
    if (old == null) {
      throw new NotFound();
    }
    return old;
  }

  private AuditOutbox.Pending event(
      Connection c, String actor, String clientId, String change, ClientMetadata m) {
    Map<String, String> details = new LinkedHashMap<>();
    details.put("change", change);
    details.put("grantTypes", String.join(" ", m.grantTypes().stream().sorted().toList()));
    details.put("authMethod", m.tokenEndpointAuthMethod());
    // Attribute values are never empty in an audit event: absent when there is nothing.
    if (!m.scopes().isEmpty()) {
      details.put("scope", String.join(" ", m.scopes().stream().sorted().toList()));
    }
    if (!m.redirectUris().isEmpty()) {
      details.put("redirectUris", String.join(" ", m.redirectUris()));
    }
    return audit.record(
        c, AuditEvent.of(EventType.CONFIG_CHANGED, actor, "client/" + clientId, details));
  }

  /** Spring's repository, writing through the caller's connection (and so its transaction). */
  private static JdbcRegisteredClientRepository repository(Connection c) {
    return new JdbcRegisteredClientRepository(
        new JdbcTemplate(new SingleConnectionDataSource(c, true)));
  }

  /** A change with its audit event and the clients' change count, in one transaction. */
  private void inTransaction(AuditOutbox.Change change) {
    try {
      audit.commit(
          inSchema,
          c -> {
            AuditOutbox.Pending pending = change.apply(c);
            CachedClients.countChange(c);
            return pending;
          });
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "client store unavailable", e);
    } finally {
      cache.changed(); // after the commit (or its failure): this node's next lookup reads again
    }
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    Randomness.current().nextBytes(b);
    return b;
  }
}
