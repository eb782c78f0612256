package io.yinxin.sso.realname;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Real-name identities of accounts: legal name, ID number (GB 11643, check character and birth date
 * verified), mobile phone number, and how the identity was verified. ID and phone numbers are
 * stored through {@link PersonalData} (encrypted, blind-indexed, masked); reading them back whole
 * is a key use in the audit log. Setting or removing an identity is a {@code CONFIG_CHANGED} event
 * in the same transaction, which never carries the numbers.
 */
public final class RealNames {
  /** How an identity was verified; the claim value is the lower-case name. */
  public enum Verification {
    SELF_DECLARED,
    CERTIFICATE,
    FEDERATION;

    public String claim() {
      return name().toLowerCase(Locale.ROOT);
    }

    static Optional<Verification> of(String claim) {
      for (Verification v : values()) {
        if (v.claim().equals(claim)) {
          return Optional.of(v);
        }
      }
      return Optional.empty();
    }
  }

  /** What the {@code realname} scope may release: nothing here is a whole number. */
  public record Masked(
      String name,
      Optional<String> idNumber,
      Optional<String> phone,
      Verification verification,
      Instant verifiedAt) {}

  /** A refused identity: which field and why (never the value). */
  public static final class Invalid extends RuntimeException {
    public Invalid(String message) {
      super(message, null, false, false);
    }
  }

  /** The ID number belongs to another account already. */
  public static final class Taken extends RuntimeException {
    public Taken() {
      super("the ID number belongs to another account", null, false, false);
    }
  }

  private static final Pattern MOBILE = Pattern.compile("1[3-9][0-9]{9}");

  private final DataSource dataSource;
  private final PersonalData data;
  private final AuditOutbox audit;
  private final Clock clock;

  public RealNames(DataSource dataSource, PersonalData data, AuditOutbox audit, Clock clock) {
    this.dataSource = dataSource;
    this.data = data;
    this.audit = audit;
    this.clock = clock;
  }

  /** A mainland mobile number in its one spelling (11 digits), or why not. */
  public static String phone(String text) {
    String p = text.strip().replace(" ", "").replace("-", "");
    if (p.startsWith("+86")) {
      p = p.substring(3);
    }
    if (!MOBILE.matcher(p).matches()) {
      throw new Invalid("phone: a mainland mobile number (11 digits starting 13-19)");
    }
    return p;
  }

  /**
   * Sets (or replaces) the identity of an existing account.
   *
   * @throws Invalid for a bad name, ID number, phone or verification
   * @throws Taken when another account has this ID number
   * @throws IllegalArgumentException when the account does not exist
   */
  public Masked set(
      String actor,
      String username,
      String legalName,
      Optional<String> idNumberText,
      Optional<String> phoneText,
      String verification) {
    if (legalName == null || legalName.isBlank() || legalName.length() > 100) {
      throw new Invalid("name: 1-100 characters");
    }
    String why = io.yinxin.sso.account.DisplayText.problem(legalName);
    if (why != null) {
      throw new Invalid("name: " + why);
    }
    Verification v =
        Verification.of(verification == null ? "" : verification)
            .orElseThrow(
                () -> new Invalid("verification: self_declared, certificate or federation"));
    Optional<IdNumber> id = idNumberText.map(this::parseIdNumber);
    Optional<String> phone = phoneText.map(RealNames::phone);
    // The key backend first, outside any transaction (it is another process, and audited).
    byte[] idSealed = id.map(n -> data.seal("id_number", username, n.value())).orElse(null);
    String idIndex = id.map(n -> data.index("id_number", n.value())).orElse(null);
    byte[] phoneSealed = phone.map(p -> data.seal("phone", username, p)).orElse(null);
    String phoneIndex = phone.map(p -> data.index("phone", p)).orElse(null);
    Instant now = clock.instant();
    String name = legalName.strip();
    Optional<String> idMasked = id.map(IdNumber::masked);
    Optional<String> phoneMasked = phone.map(RealNames::maskPhone);
    try {
      audit.commit(
          dataSource,
          c -> {
            try (PreparedStatement ps =
                c.prepareStatement("SELECT count(*) FROM sso.accounts WHERE username = ?")) {
              ps.setString(1, username);
              try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getLong(1) == 0) {
                  throw new IllegalArgumentException("no such account");
                }
              }
            }
            if (idIndex != null) {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT count(*) FROM sso.real_names WHERE id_number_index = ? AND username"
                          + " <> ?")) {
                ps.setString(1, idIndex);
                ps.setString(2, username);
                try (ResultSet rs = ps.executeQuery()) {
                  rs.next();
                  if (rs.getLong(1) > 0) {
                    throw new Taken();
                  }
                }
              }
            }
            try (PreparedStatement ps =
                c.prepareStatement("DELETE FROM sso.real_names WHERE username = ?")) {
              ps.setString(1, username);
              ps.executeUpdate();
            }
            try (PreparedStatement ps =
                c.prepareStatement(
                    "INSERT INTO sso.real_names (username, legal_name, id_number_sealed,"
                        + " id_number_index, id_number_masked, phone_sealed, phone_index,"
                        + " phone_masked, verification, verified_at, data_key) VALUES (?, ?, ?, ?,"
                        + " ?, ?, ?, ?, ?, ?, ?)")) {
              ps.setString(1, username);
              ps.setString(2, name);
              ps.setBytes(3, idSealed);
              ps.setString(4, idIndex);
              ps.setString(5, idMasked.orElse(null));
              ps.setBytes(6, phoneSealed);
              ps.setString(7, phoneIndex);
              ps.setString(8, phoneMasked.orElse(null));
              ps.setString(9, v.claim());
              ps.setTimestamp(10, Timestamp.from(now));
              ps.setString(11, data.dataKey().toString());
              ps.executeUpdate();
            }
            Map<String, String> details = new LinkedHashMap<>();
            details.put("change", "realname_set");
            details.put("verification", v.claim());
            details.put("idNumber", id.isPresent() ? "set" : "none");
            details.put("phone", phone.isPresent() ? "set" : "none");
            return audit.record(
                c, AuditEvent.of(EventType.CONFIG_CHANGED, actor, "account/" + username, details));
          });
    } catch (SQLException e) {
      if ("23505".equals(e.getSQLState())) {
        throw new Taken(); // another node stored the same ID number just now
      }
      throw new AuditException(AuditException.Code.UNAVAILABLE, "account store unavailable", e);
    }
    return new Masked(name, idMasked, phoneMasked, v, now);
  }

  /** Removes an account's identity. */
  public boolean remove(String actor, String username) {
    boolean[] removed = new boolean[1];
    try {
      audit.commit(
          dataSource,
          c -> {
            try (PreparedStatement ps =
                c.prepareStatement("DELETE FROM sso.real_names WHERE username = ?")) {
              ps.setString(1, username);
              removed[0] = ps.executeUpdate() == 1;
            }
            if (!removed[0]) {
              return null;
            }
            return audit.record(
                c,
                AuditEvent.of(
                    EventType.CONFIG_CHANGED,
                    actor,
                    "account/" + username,
                    Map.of("change", "realname_removed")));
          });
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "account store unavailable", e);
    }
    return removed[0];
  }

  /** The releasable view of an account's identity (no decryption). */
  public Optional<Masked> masked(String username) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT legal_name, id_number_masked, phone_masked, verification, verified_at FROM"
                    + " sso.real_names WHERE username = ?")) {
      ps.setString(1, username);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(
            new Masked(
                rs.getString(1),
                Optional.ofNullable(rs.getString(2)),
                Optional.ofNullable(rs.getString(3)),
                Verification.of(rs.getString(4)).orElse(Verification.SELF_DECLARED),
                rs.getTimestamp(5).toInstant()));
      }
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "account store unavailable", e);
    }
  }

  /** The whole ID number, decrypted (a key use the audit log records). */
  public Optional<String> idNumber(String username) {
    return sealed(username, "id_number_sealed").map(b -> data.open("id_number", username, b));
  }

  /** The whole phone number, decrypted (a key use the audit log records). */
  public Optional<String> phoneNumber(String username) {
    return sealed(username, "phone_sealed").map(b -> data.open("phone", username, b));
  }

  /** The account whose ID number this is, found by its blind index. */
  public Optional<String> byIdNumber(IdNumber number) {
    String index = data.index("id_number", number.value());
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT username FROM sso.real_names WHERE id_number_index = ?")) {
      ps.setString(1, index);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "account store unavailable", e);
    }
  }

  private Optional<byte[]> sealed(String username, String column) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT " + column + " FROM sso.real_names WHERE username = ?")) {
      ps.setString(1, username);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.ofNullable(rs.getBytes(1)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "account store unavailable", e);
    }
  }

  private IdNumber parseIdNumber(String text) {
    String[] why = new String[1];
    return IdNumber.parse(text, LocalDate.now(clock.withZone(ZoneId.of("Asia/Shanghai"))), why)
        .orElseThrow(() -> new Invalid("id_number: " + why[0]));
  }

  static String maskPhone(String p) {
    return p.substring(0, 3) + "****" + p.substring(7);
  }
}
