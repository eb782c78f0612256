package io.yinxin.sso.cas;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import io.yinxin.hsm.Randomness;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * CAS 3.0 service tickets (protocol §3.1): {@code ST-} and 64 hex digits (256 random bits), good
 * once, for the one service URL they were issued to, for {@value #LIFETIME_SECONDS} seconds as the
 * database's clock counts them (so nodes whose clocks differ agree). Only the ticket's SHA-256 is
 * stored. A ticket presented for another service, expired, or without the new sign-in that {@code
 * renew} asks for, is used up all the same (§2.5.3: a failed validation invalidates it). A ticket
 * validated is a {@code TOKEN_ISSUED} audit event (grant {@code cas}), written in the transaction
 * that uses the ticket up and durable before the service is answered.
 */
public final class CasTickets {
  public static final int LIFETIME_SECONDS = 10;
  private static final Duration LIFETIME = Duration.ofSeconds(LIFETIME_SECONDS);

  /** Who signed in, and how, as the ticket carries it to the service. */
  public record SignIn(String username, List<String> methods, boolean newLogin, Instant authTime) {
    public SignIn {
      methods = List.copyOf(methods);
    }
  }

  /** What validating a ticket found. */
  public sealed interface Outcome {}

  /** A good ticket: the sign-in it stood for. */
  public record Valid(SignIn signIn, CasServices.Service service) implements Outcome {}

  /** A refused validation, with its CAS error code (§2.5.3). */
  public record Invalid(String code, String message) implements Outcome {}

  private final DataSource dataSource;
  private final AuditOutbox audit;
  private final AtomicLong issued = new AtomicLong();

  public CasTickets(DataSource dataSource, AuditOutbox audit) {
    this.dataSource = dataSource;
    this.audit = audit;
  }

  /** A new ticket for {@code service} (a registered URL). */
  public String issue(CasServices.Service service, SignIn signIn) {
    byte[] raw = new byte[32];
    Randomness.current().nextBytes(raw);
    String ticket = "ST-" + HexFormat.of().formatHex(raw);
    try (Connection c = dataSource.getConnection()) {
      if (issued.incrementAndGet() % 1000 == 0) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "DELETE FROM sso.cas_tickets WHERE expires_at < CURRENT_TIMESTAMP")) {
          ps.executeUpdate();
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO sso.cas_tickets (ticket_sha256, service_url, username, methods,"
                  + " new_login, auth_time, expires_at) VALUES (?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP"
                  + " + INTERVAL '"
                  + LIFETIME.toSeconds()
                  + "' SECOND)")) {
        ps.setString(1, sha256(ticket));
        ps.setString(2, service.url());
        ps.setString(3, signIn.username());
        ps.setString(4, String.join(" ", signIn.methods()));
        ps.setBoolean(5, signIn.newLogin());
        ps.setTimestamp(6, Timestamp.from(signIn.authTime()));
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "ticket store unavailable", e);
    }
    return ticket;
  }

  /**
   * Uses up {@code ticket} and says whether it stands for a sign-in at {@code service}.
   *
   * @param renew the service asked for a ticket from a fresh sign-in only
   */
  public Outcome validate(String ticket, String service, boolean renew) {
    if (ticket == null || ticket.isEmpty() || service == null || service.isEmpty()) {
      return new Invalid("INVALID_REQUEST", "ticket and service are required");
    }
    if (!ticket.startsWith("ST-")) {
      return new Invalid("INVALID_TICKET_SPEC", "not a service ticket");
    }
    if (ticket.length() > 256) {
      return new Invalid("INVALID_TICKET", "ticket not recognized");
    }
    Outcome[] outcome = new Outcome[1];
    try {
      audit.commit(
          dataSource,
          c -> {
            outcome[0] = useUp(c, ticket, service, renew);
            if (outcome[0] instanceof Valid v) {
              Map<String, String> a = new LinkedHashMap<>();
              a.put("client", v.service().id());
              a.put("grant", "cas");
              a.put("service", v.service().url());
              a.put("methods", String.join(" ", v.signIn().methods()));
              return audit.record(
                  c,
                  AuditEvent.of(
                      EventType.TOKEN_ISSUED, v.service().id(), v.signIn().username(), a));
            }
            return null;
          });
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "ticket store unavailable", e);
    }
    return outcome[0];
  }

  private Outcome useUp(Connection c, String ticket, String service, boolean renew)
      throws SQLException {
    String hash = sha256(ticket);
    String url;
    SignIn signIn;
    boolean live;
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT service_url, username, methods, new_login, auth_time, CASE WHEN expires_at >"
                + " CURRENT_TIMESTAMP THEN 1 ELSE 0 END FROM sso.cas_tickets WHERE"
                + " ticket_sha256 = ?")) {
      ps.setString(1, hash);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return new Invalid("INVALID_TICKET", "ticket not recognized");
        }
        url = rs.getString(1);
        String methods = rs.getString(3);
        signIn =
            new SignIn(
                rs.getString(2),
                methods.isEmpty() ? List.of() : List.of(methods.split(" ")),
                rs.getBoolean(4),
                rs.getTimestamp(5).toInstant());
        live = rs.getInt(6) == 1;
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM sso.cas_tickets WHERE ticket_sha256 = ?")) {
      ps.setString(1, hash);
      if (ps.executeUpdate() != 1) {
        // Another request used it up between our read and our delete.
        return new Invalid("INVALID_TICKET", "ticket not recognized");
      }
    }
    if (!live) {
      return new Invalid("INVALID_TICKET", "ticket expired");
    }
    if (!url.equals(service)) {
      return new Invalid("INVALID_SERVICE", "the ticket was not issued to this service");
    }
    if (renew && !signIn.newLogin()) {
      return new Invalid("INVALID_TICKET", "the ticket did not come from a new sign-in");
    }
    var registered = CasServices.find(c, "service_url", url);
    if (registered.isEmpty()) {
      return new Invalid("INVALID_SERVICE", "the service is no longer registered");
    }
    return new Valid(signIn, registered.get());
  }

  /** Drops every outstanding ticket of a person who signed out. */
  public void forget(String username) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("DELETE FROM sso.cas_tickets WHERE username = ?")) {
      ps.setString(1, username);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "ticket store unavailable", e);
    }
  }

  static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
