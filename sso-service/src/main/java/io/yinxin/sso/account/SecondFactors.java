package io.yinxin.sso.account;

import io.yinxin.hsm.Randomness;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.sql.DataSource;

/**
 * TOTP second factors and recovery codes in schema {@code sso}. A code is accepted once: the time
 * step it belongs to must be later than the last accepted one, checked and recorded by one
 * conditional UPDATE, so a code seen over someone's shoulder (or accepted on another node) cannot
 * be replayed. Recovery codes are single-use and kept only as their SHA-256.
 */
public final class SecondFactors {
  public static final int RECOVERY_CODES = 10;

  private final DataSource dataSource;
  private final io.yinxin.sso.realname.PersonalData sealer;
  private final Clock clock;

  /**
   * @param sealer encrypts TOTP secrets at rest under the data protection key (GB/T 39786: an
   *     authentication secret is important data)
   */
  public SecondFactors(
      DataSource dataSource, io.yinxin.sso.realname.PersonalData sealer, Clock clock) {
    this.dataSource = dataSource;
    this.sealer = sealer;
    this.clock = clock;
  }

  private byte[] seal(String username, byte[] secret) {
    return sealer.seal(
        "totp_secret", username, java.util.Base64.getEncoder().encodeToString(secret));
  }

  /** The secret as stored: sealed; a 20-byte value is one stored before sealing began. */
  private byte[] open(String username, byte[] stored) {
    if (stored.length == 20) {
      return stored;
    }
    return java.util.Base64.getDecoder().decode(sealer.open("totp_secret", username, stored));
  }

  /** How many passkeys an account has. */
  public int passkeys(String username) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT COUNT(*) FROM sso.user_credentials k JOIN sso.user_entities u"
                    + " ON k.user_entity_user_id = u.id WHERE u.name = ?")) {
      ps.setString(1, username);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("second factors unavailable", e);
    }
  }

  /**
   * An operator removes every authenticator of an account (the person lost their phone): the TOTP
   * secret, the recovery codes and the passkeys, with a {@code CONFIG_CHANGED} event naming how
   * many of each, in one transaction. Nothing to remove records nothing. The person then signs in
   * with the password alone and may set up new ones; the caller ends the account's sessions and
   * tokens (whoever holds the lost device may be signed in).
   *
   * @return how many were removed: TOTP secrets (0 or 1), recovery codes, passkeys
   */
  public int[] removeAll(String actor, String username, io.yinxin.audit.AuditOutbox audit) {
    int[] removed = new int[3];
    try {
      audit.commit(
          dataSource,
          c -> {
            String[] sql = {
              "DELETE FROM sso.totp_credentials WHERE username = ?",
              "DELETE FROM sso.recovery_codes WHERE username = ?",
              "DELETE FROM sso.user_credentials WHERE user_entity_user_id IN"
                  + " (SELECT id FROM sso.user_entities WHERE name = ?)"
            };
            for (int i = 0; i < sql.length; i++) {
              try (PreparedStatement ps = c.prepareStatement(sql[i])) {
                ps.setString(1, username);
                removed[i] = ps.executeUpdate();
              }
            }
            if (removed[0] + removed[1] + removed[2] == 0) {
              return null;
            }
            return audit.record(
                c,
                io.yinxin.audit.AuditEvent.of(
                    io.yinxin.audit.EventType.CONFIG_CHANGED,
                    actor,
                    "account/" + username,
                    java.util.Map.of(
                        "change",
                        "second factors removed",
                        "totp",
                        Integer.toString(removed[0]),
                        "recovery_codes",
                        Integer.toString(removed[1]),
                        "passkeys",
                        Integer.toString(removed[2]))));
          });
    } catch (SQLException e) {
      throw new IllegalStateException("second factors unavailable", e);
    }
    return removed;
  }

  /** A fresh 160-bit TOTP secret for enrolment (stored only once a code from it is confirmed). */
  public static byte[] newSecret() {
    byte[] b = new byte[20];
    Randomness.current().nextBytes(b);
    return b;
  }

  public boolean hasTotp(String username) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT 1 FROM sso.totp_credentials WHERE username = ?")) {
      ps.setString(1, username);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    } catch (SQLException e) {
      throw new IllegalStateException("second factors unavailable", e);
    }
  }

  /**
   * Stores {@code secret} for the account if {@code code} is a current code of it (proving the app
   * holds it), replacing an earlier one, and returns new recovery codes (shown once); the old
   * recovery codes stop working. Empty when the code is wrong.
   */
  public List<String> enrol(String username, byte[] secret, String code) {
    long step = Totp.matchingStep(secret, code, Totp.step(clock.instant().getEpochSecond()));
    if (step < 0) {
      return List.of();
    }
    List<String> codes = new ArrayList<>();
    for (int i = 0; i < RECOVERY_CODES; i++) {
      codes.add(recoveryCode());
    }
    byte[] sealed = seal(username, secret); // before any connection is taken
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        for (String sql :
            List.of(
                "DELETE FROM sso.totp_credentials WHERE username = ?",
                "DELETE FROM sso.recovery_codes WHERE username = ?")) {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, username);
            ps.executeUpdate();
          }
        }
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO sso.totp_credentials (username, secret, last_step, enrolled_at)"
                    + " VALUES (?, ?, ?, ?)")) {
          ps.setString(1, username);
          ps.setBytes(2, sealed);
          ps.setLong(3, step); // the confirming code is spent
          ps.setTimestamp(4, Timestamp.from(clock.instant()));
          ps.executeUpdate();
        }
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO sso.recovery_codes (username, code_hash) VALUES (?, ?)")) {
          for (String rc : codes) {
            ps.setString(1, username);
            ps.setBytes(2, sha256(rc));
            ps.addBatch();
          }
          ps.executeBatch();
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("second factors unavailable", e);
    }
    return List.copyOf(codes);
  }

  /** Accepts a current TOTP code once; false for a wrong, stale or replayed one. */
  public boolean verifyTotp(String username, String code) {
    byte[] stored;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT secret FROM sso.totp_credentials WHERE username = ?")) {
      ps.setString(1, username);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return false;
        }
        stored = rs.getBytes(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("second factors unavailable", e);
    }
    // Opened by the key backend with no connection held (it is another process).
    byte[] secret = open(username, stored);
    long step = Totp.matchingStep(secret, code, Totp.step(clock.instant().getEpochSecond()));
    if (step < 0) {
      return false;
    }
    byte[] resealed = stored.length == 20 ? seal(username, secret) : null;
    try (Connection c = dataSource.getConnection()) {
      if (resealed != null) {
        // A secret stored before sealing began is sealed at its first use.
        try (PreparedStatement ps =
            c.prepareStatement(
                "UPDATE sso.totp_credentials SET secret = ? WHERE username = ? AND secret = ?")) {
          ps.setBytes(1, resealed);
          ps.setString(2, username);
          ps.setBytes(3, stored);
          ps.executeUpdate();
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "UPDATE sso.totp_credentials SET last_step = ? WHERE username = ? AND last_step < ?")) {
        ps.setLong(1, step);
        ps.setString(2, username);
        ps.setLong(3, step);
        return ps.executeUpdate() == 1;
      }
    } catch (SQLException e) {
      throw new IllegalStateException("second factors unavailable", e);
    }
  }

  /** Spends a recovery code; false for an unknown or used one. */
  public boolean useRecoveryCode(String username, String code) {
    String normal = code == null ? "" : code.strip().toLowerCase(Locale.ROOT);
    if (!normal.matches("[a-z2-7]{5}-[a-z2-7]{5}")) {
      return false;
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE sso.recovery_codes SET used_at = ? WHERE username = ? AND code_hash = ?"
                    + " AND used_at IS NULL")) {
      ps.setTimestamp(1, Timestamp.from(clock.instant()));
      ps.setString(2, username);
      ps.setBytes(3, sha256(normal));
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw new IllegalStateException("second factors unavailable", e);
    }
  }

  private static String recoveryCode() {
    byte[] b = new byte[7];
    Randomness.current().nextBytes(b);
    String s = Totp.base32(b).toLowerCase(Locale.ROOT).substring(0, 10);
    return s.substring(0, 5) + "-" + s.substring(5);
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
