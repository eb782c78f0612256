package io.yinxin.sso.account;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import javax.sql.DataSource;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;

/**
 * The portals a person has let in (Keycloak's account console, "Applications"): those they agreed
 * to share their data with (a consent) and those holding tokens for them. The person may take a
 * portal's access away: its consent and every authorization it holds for them (codes, access,
 * refresh and ID tokens) go in one transaction with a {@code TOKEN_REVOKED} audit event, durable
 * before the answer. The portal must then ask again, and its refresh token no longer works; an
 * access token it already holds stays valid at a resource server that does not introspect until it
 * expires (minutes), as after a sign-out.
 */
public final class ConnectedApps {
  /** A portal with access: its client ID and name, and the scopes consented to (may be empty). */
  public record App(String clientId, String name, List<String> scopes, boolean holdsTokens) {}

  /**
   * An authorization that gives access: it holds a code or a token. One waiting for the person's
   * consent (Spring keeps the request's state in one) or for a device's user code gives none.
   */
  private static final String HOLDS_ACCESS =
      "(authorization_code_value IS NOT NULL OR access_token_value IS NOT NULL"
          + " OR refresh_token_value IS NOT NULL OR oidc_id_token_value IS NOT NULL)";

  private final DataSource dataSource;
  private final RegisteredClientRepository clients;

  public ConnectedApps(DataSource dataSource, RegisteredClientRepository clients) {
    this.dataSource = dataSource;
    this.clients = clients;
  }

  /** The portals {@code username} has let in, by name. */
  public List<App> of(String username) {
    Map<String, String> consented = new LinkedHashMap<>(); // registered id -> authorities
    List<String> holding = new ArrayList<>();
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT registered_client_id, authorities FROM sso.oauth2_authorization_consent"
                  + " WHERE principal_name = ?")) {
        ps.setString(1, username);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            consented.put(rs.getString(1), rs.getString(2));
          }
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT DISTINCT registered_client_id FROM sso.oauth2_authorization"
                  + " WHERE principal_name = ? AND "
                  + HOLDS_ACCESS)) {
        ps.setString(1, username);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            holding.add(rs.getString(1));
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the portals with access", e);
    }
    TreeSet<String> ids = new TreeSet<>(consented.keySet());
    ids.addAll(holding);
    List<App> apps = new ArrayList<>();
    for (String id : ids) {
      RegisteredClient client = clients.findById(id);
      if (client == null) {
        continue; // removed since: nothing of it can be used
      }
      List<String> scopes =
          consented.containsKey(id)
              ? Arrays.stream(consented.get(id).split(","))
                  .map(String::strip)
                  .filter(a -> a.startsWith("SCOPE_"))
                  .map(a -> a.substring("SCOPE_".length()))
                  .sorted()
                  .toList()
              : List.of();
      String name = client.getClientName();
      apps.add(
          new App(
              client.getClientId(),
              name == null || name.isBlank() || name.equals(id) ? client.getClientId() : name,
              scopes,
              holding.contains(id)));
    }
    apps.sort(java.util.Comparator.comparing(App::name).thenComparing(App::clientId));
    return apps;
  }

  /**
   * Takes {@code clientId}'s access to {@code username} away: its consent and its authorizations,
   * with the audit event, in one transaction.
   *
   * @return false, with nothing changed, when that portal had no access (or does not exist)
   */
  public boolean revoke(String username, String clientId, AuditOutbox audit) {
    if (clientId == null || clientId.isBlank() || clientId.length() > 100) {
      return false; // no client has such an ID (the repository refuses an empty one)
    }
    RegisteredClient client = clients.findByClientId(clientId);
    if (client == null) {
      return false;
    }
    boolean[] removed = {false};
    try {
      audit.commit(
          dataSource,
          c -> {
            String id = client.getId();
            int n =
                delete(
                    c,
                    "DELETE FROM sso.oauth2_authorization_consent WHERE registered_client_id = ?"
                        + " AND principal_name = ?",
                    id,
                    username);
            n +=
                delete(
                    c,
                    "DELETE FROM sso.oauth2_authorization WHERE registered_client_id = ?"
                        + " AND principal_name = ? AND "
                        + HOLDS_ACCESS,
                    id,
                    username);
            // Requests waiting for the person's consent go too, but are no access to take away.
            delete(
                c,
                "DELETE FROM sso.oauth2_authorization WHERE registered_client_id = ?"
                    + " AND principal_name = ?",
                id,
                username);
            if (n == 0) {
              return null; // nothing to take away, nothing to record
            }
            removed[0] = true;
            return audit.record(
                c,
                AuditEvent.of(
                    EventType.TOKEN_REVOKED,
                    username,
                    username,
                    Map.of("client", client.getClientId(), "by", "person", "scope", "access")));
          });
    } catch (SQLException e) {
      throw new IllegalStateException("cannot take the portal's access away", e);
    }
    return removed[0];
  }

  private static int delete(Connection c, String sql, String clientId, String username)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, clientId);
      ps.setString(2, username);
      return ps.executeUpdate();
    }
  }
}
