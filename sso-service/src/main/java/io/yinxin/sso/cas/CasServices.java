package io.yinxin.sso.cas;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import io.yinxin.hsm.Randomness;
import io.yinxin.sso.client.ClientAdmin;
import io.yinxin.sso.client.ClientMetadata;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The portals that may sign people in over CAS 3.0, each by one service URL matched exactly (as a
 * client's redirect URI is: no prefix, no pattern, so no open redirect). Registering and removing a
 * service is one transaction with its {@code CONFIG_CHANGED} audit event, durable in the log before
 * the caller is answered.
 */
public final class CasServices {
  /** A registered service. */
  public record Service(String id, String url, String name) {
    public Map<String, Object> describe() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("service_id", id);
      m.put("service_url", url);
      m.put("name", name);
      return m;
    }
  }

  private final DataSource dataSource;
  private final AuditOutbox audit;
  private final Clock clock;

  public CasServices(DataSource dataSource, AuditOutbox audit, Clock clock) {
    this.dataSource = dataSource;
    this.audit = audit;
    this.clock = clock;
  }

  /**
   * Registers a service.
   *
   * @param id the id an operator chose (the client id rules), or empty for a generated one
   * @throws ClientMetadata.Invalid for a bad id, URL or name
   * @throws ClientAdmin.Taken when the id or the URL is registered already
   */
  public Service register(String actor, Optional<String> id, String url, String name) {
    String sid = id.orElseGet(() -> "cas-" + HexFormat.of().formatHex(random(8)));
    if (!ClientAdmin.CLIENT_ID.matcher(sid).matches()) {
      throw new ClientMetadata.Invalid(
          "invalid_client_metadata", "service_id: 3-64 of a-z 0-9 . _ - (starting a-z or 0-9)");
    }
    if (url == null) {
      throw new ClientMetadata.Invalid("invalid_client_metadata", "service_url is required");
    }
    String why = ClientMetadata.uriProblem(url);
    if (why != null) {
      throw new ClientMetadata.Invalid("invalid_client_metadata", "service_url " + why);
    }
    if (url.startsWith("http") && url.contains("ticket=")) {
      throw new ClientMetadata.Invalid(
          "invalid_client_metadata", "service_url must not carry a ticket parameter");
    }
    if (name == null
        || name.isBlank()
        || name.length() > 200
        || name.codePoints().anyMatch(Character::isISOControl)) {
      throw new ClientMetadata.Invalid(
          "invalid_client_metadata", "name: 1-200 characters, no control characters");
    }
    Service s = new Service(sid, url, name.strip());
    commit(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT count(*) FROM sso.cas_services WHERE service_id = ? OR service_url = ?")) {
            ps.setString(1, sid);
            ps.setString(2, url);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              if (rs.getLong(1) > 0) {
                throw new ClientAdmin.Taken();
              }
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO sso.cas_services (service_id, service_url, name, created_at)"
                      + " VALUES (?, ?, ?, ?)")) {
            ps.setString(1, s.id());
            ps.setString(2, s.url());
            ps.setString(3, s.name());
            ps.setTimestamp(4, Timestamp.from(clock.instant()));
            ps.executeUpdate();
          }
          return event(c, actor, sid, "cas_service_registered", url);
        });
    return s;
  }

  /** Removes a service; its outstanding tickets die with it. */
  public void remove(String actor, String id) {
    commit(
        c -> {
          Service s = find(c, "service_id", id).orElseThrow(ClientAdmin.NotFound::new);
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM sso.cas_services WHERE service_id = ?")) {
            ps.setString(1, id);
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM sso.cas_tickets WHERE service_url = ?")) {
            ps.setString(1, s.url());
            ps.executeUpdate();
          }
          return event(c, actor, id, "cas_service_removed", s.url());
        });
  }

  /** The service registered for exactly this URL. */
  public Optional<Service> byUrl(String url) {
    if (url == null || url.length() > 2000) {
      return Optional.empty();
    }
    try (Connection c = dataSource.getConnection()) {
      return find(c, "service_url", url);
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "service store unavailable", e);
    }
  }

  public Optional<Service> byId(String id) {
    try (Connection c = dataSource.getConnection()) {
      return find(c, "service_id", id);
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "service store unavailable", e);
    }
  }

  /** Every service, by id. */
  public List<Service> list() {
    List<Service> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT service_id, service_url, name FROM sso.cas_services ORDER BY service_id"
                    + " LIMIT 10000");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new Service(rs.getString(1), rs.getString(2), rs.getString(3)));
      }
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "service store unavailable", e);
    }
    return out;
  }

  /** The service whose {@code column} (service_id or service_url) is {@code value}. */
  static Optional<Service> find(Connection c, String column, String value) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT service_id, service_url, name FROM sso.cas_services WHERE "
                + column
                + " = ?")) {
      ps.setString(1, value);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new Service(rs.getString(1), rs.getString(2), rs.getString(3)))
            : Optional.empty();
      }
    }
  }

  private AuditOutbox.Pending event(
      Connection c, String actor, String id, String change, String url) {
    Map<String, String> details = new LinkedHashMap<>();
    details.put("change", change);
    details.put("serviceUrl", url);
    return audit.record(
        c, AuditEvent.of(EventType.CONFIG_CHANGED, actor, "cas-service/" + id, details));
  }

  private void commit(AuditOutbox.Change change) {
    try {
      audit.commit(dataSource, change);
    } catch (SQLException e) {
      if ("23505".equals(e.getSQLState())) {
        throw new ClientAdmin.Taken(); // another node registered the same id or URL just now
      }
      throw new AuditException(AuditException.Code.UNAVAILABLE, "service store unavailable", e);
    }
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    Randomness.current().nextBytes(b);
    return b;
  }
}
