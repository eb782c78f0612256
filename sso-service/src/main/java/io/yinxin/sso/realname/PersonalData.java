package io.yinxin.sso.realname;

import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.Randomness;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.sql.DataSource;

/**
 * Personal data at rest (GB/T 39786): each value encrypted under the data protection key in the key
 * backend, bound to where it is stored (table, column, account: a value copied into another row
 * does not open), and a blind index for look-ups — HMAC-SHA256 under an index key that is itself
 * stored only wrapped by the data key ({@code sso.wrapped_keys}), so the database alone gives
 * neither the values nor a way to test guesses against the index. The index key is created by the
 * first node (an insert that a second node's loses), unwrapped once per process.
 */
public final class PersonalData {
  private static final String INDEX_KEY = "blind-index";

  private final KeyService keys;
  private final KeyRef dataKey;
  private final DataSource dataSource;
  private volatile SecretKeySpec indexKey;

  public PersonalData(KeyService keys, KeyRef dataKey, DataSource dataSource) {
    this.keys = keys;
    this.dataKey = dataKey;
    this.dataSource = dataSource;
  }

  public KeyRef dataKey() {
    return dataKey;
  }

  /** Encrypts {@code value} for {@code column} of {@code row}. */
  public byte[] seal(String column, String row, String value) {
    return keys.encrypt(
        dataKey, value.getBytes(StandardCharsets.UTF_8), context(column, row), "sso:" + column);
  }

  /** Opens what {@link #seal} made for the same column and row. */
  public String open(String column, String row, byte[] sealed) {
    return new String(
        keys.decrypt(dataKey, sealed, context(column, row), "sso:" + column),
        StandardCharsets.UTF_8);
  }

  private static byte[] context(String column, String row) {
    return ("sso.real_names/" + column + "/" + row).getBytes(StandardCharsets.UTF_8);
  }

  /** The blind index of a value of {@code column}: hex HMAC-SHA256 under the index key. */
  public String index(String column, String value) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(indexKey());
      return HexFormat.of()
          .formatHex(mac.doFinal((column + "\n" + value).getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is unavailable", e);
    }
  }

  private SecretKeySpec indexKey() {
    SecretKeySpec k = indexKey;
    if (k == null) {
      synchronized (this) {
        if (indexKey == null) {
          indexKey = loadOrCreateIndexKey();
        }
        k = indexKey;
      }
    }
    return k;
  }

  private static final byte[] INDEX_CONTEXT =
      "sso.wrapped_keys/blind-index".getBytes(StandardCharsets.UTF_8);

  private SecretKeySpec loadOrCreateIndexKey() {
    byte[] wrapped = readWrapped();
    if (wrapped == null) {
      byte[] raw = new byte[32];
      Randomness.current().nextBytes(raw);
      byte[] fresh = keys.encrypt(dataKey, raw, INDEX_CONTEXT, "sso:blind-index-key");
      Arrays.fill(raw, (byte) 0);
      try (Connection c = dataSource.getConnection();
          PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO sso.wrapped_keys (name, key_ref, wrapped) VALUES (?, ?, ?)")) {
        ps.setString(1, INDEX_KEY);
        ps.setString(2, dataKey.toString());
        ps.setBytes(3, fresh);
        ps.executeUpdate();
      } catch (SQLException e) {
        if (!"23505".equals(e.getSQLState())) {
          throw new IllegalStateException("cannot store the blind index key", e);
        }
        // Another node stored one first: use that.
      }
      wrapped = readWrapped();
    }
    byte[] raw = keys.decrypt(dataKey, wrapped, INDEX_CONTEXT, "sso:blind-index-key");
    try {
      return new SecretKeySpec(raw, "HmacSHA256");
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }

  private byte[] readWrapped() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT wrapped FROM sso.wrapped_keys WHERE name = ?")) {
      ps.setString(1, INDEX_KEY);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getBytes(1) : null;
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the blind index key", e);
    }
  }

  @Override
  public String toString() {
    return "PersonalData[" + dataKey + "]";
  }
}
