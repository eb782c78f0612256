package io.yinxin.sign.csc;

import io.yinxin.hsm.Randomness;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Signature activation data (SAD) of the Cloud Signature Consortium API: {@code
 * credentials/authorize} issues one, {@code signatures/signHash} spends it. A SAD is 32 random
 * bytes the client holds; the database keeps only their SHA-256, the seal, the caller, the hashes
 * it is bound to and the uses left, so any node behind a load balancer can spend what another
 * issued, and a stolen database row cannot be replayed. Spending is one conditional UPDATE, so two
 * nodes spending the last use at once cannot both succeed; expiry is judged by the database's
 * clock.
 */
public final class SignatureActivations {
  /** Most hashes one SAD may be bound to (the API's {@code multisign}). */
  public static final int MAX_HASHES = 100;

  private final DataSource dataSource;
  private final Duration lifetime;

  public SignatureActivations(DataSource dataSource, Duration lifetime) {
    this.dataSource = dataSource;
    this.lifetime = lifetime;
  }

  /** A SAD and how long it lives. */
  public record Activation(String sad, long expiresInSeconds) {}

  /**
   * Issues a SAD for {@code numSignatures} signatures with one seal by one caller.
   *
   * @param hashes the digests it may sign, or empty for any {@code numSignatures} digests
   */
  public Activation issue(String sealId, String actor, List<byte[]> hashes, int numSignatures) {
    if (numSignatures < 1 || numSignatures > MAX_HASHES) {
      throw new SignException(
          Code.INVALID_REQUEST, "numSignatures must be between 1 and " + MAX_HASHES);
    }
    if (!hashes.isEmpty() && hashes.size() != numSignatures) {
      throw new SignException(
          Code.INVALID_REQUEST, "numSignatures must equal the number of hashes");
    }
    byte[] raw = new byte[32];
    Randomness.current().nextBytes(raw);
    String sad = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement del =
          c.prepareStatement(
              "DELETE FROM sign.csc_activations WHERE expires_at < CURRENT_TIMESTAMP")) {
        del.executeUpdate();
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO sign.csc_activations (sad_sha256, seal_id, actor, hashes, remaining,"
                  + " expires_at) VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP + CAST(? AS INTEGER) *"
                  + " INTERVAL '1' SECOND)")) {
        ps.setString(1, fingerprint(sad));
        ps.setString(2, sealId);
        ps.setString(3, actor);
        ps.setString(4, String.join(",", hex(hashes)));
        ps.setInt(5, numSignatures);
        ps.setLong(6, lifetime.toSeconds());
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new SignException(Code.UNAVAILABLE, "cannot store the activation", e);
    }
    return new Activation(sad, lifetime.toSeconds());
  }

  /**
   * Spends one use of {@code sad} per hash: it must have been issued for this seal and caller, not
   * expired, have uses left, and (when bound to hashes) name every one of {@code hashes}.
   *
   * @throws SignException {@code INVALID_REQUEST} ("SAD invalid or expired") otherwise; nothing is
   *     spent then
   */
  public void spend(String sad, String sealId, String actor, List<byte[]> hashes) {
    String id = fingerprint(sad);
    try (Connection c = dataSource.getConnection()) {
      String bound;
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT hashes FROM sign.csc_activations WHERE sad_sha256 = ? AND seal_id = ? AND"
                  + " actor = ?")) {
        ps.setString(1, id);
        ps.setString(2, sealId);
        ps.setString(3, actor);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw invalidSad();
          }
          bound = rs.getString(1);
        }
      }
      if (!bound.isEmpty()) {
        Set<String> allowed = new LinkedHashSet<>(List.of(bound.split(",")));
        if (!allowed.containsAll(hex(hashes))) {
          throw new SignException(
              Code.INVALID_REQUEST, "the hashes are not the ones the SAD was issued for");
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "UPDATE sign.csc_activations SET remaining = remaining - ? WHERE sad_sha256 = ? AND"
                  + " remaining >= ? AND expires_at > CURRENT_TIMESTAMP")) {
        ps.setInt(1, hashes.size());
        ps.setString(2, id);
        ps.setInt(3, hashes.size());
        if (ps.executeUpdate() != 1) {
          throw invalidSad();
        }
      }
    } catch (SQLException e) {
      throw new SignException(Code.UNAVAILABLE, "cannot read the activation", e);
    }
  }

  private static SignException invalidSad() {
    return new SignException(Code.INVALID_REQUEST, "SAD invalid or expired");
  }

  private static List<String> hex(List<byte[]> hashes) {
    return hashes.stream().map(h -> HexFormat.of().formatHex(h)).toList();
  }

  private static String fingerprint(String sad) {
    if (sad == null || sad.isEmpty() || sad.length() > 200) {
      throw invalidSad();
    }
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(sad.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
