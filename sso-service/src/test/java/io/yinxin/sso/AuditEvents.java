package io.yinxin.sso;

import io.yinxin.audit.store.LogStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Reads the audit log's private event rows the way an auditor's tool would: they are encrypted at
 * rest, so a test opens each one through the node's {@link LogStore} before looking inside.
 */
final class AuditEvents {
  private AuditEvents() {}

  /**
   * How many events of {@code type} ({@code null}: any) contain every one of {@code texts}, read
   * decrypted; every row read must be encrypted.
   */
  static long count(DataSource ds, LogStore store, String type, String... texts)
      throws SQLException {
    return countFor(ds, store, type, null, texts);
  }

  /** The same for the events of one subject ({@code null}: any). */
  static long countFor(DataSource ds, LogStore store, String type, String subject, String... texts)
      throws SQLException {
    long n = 0;
    String sql =
        "SELECT event, salt FROM audit.events WHERE 1 = 1"
            + (type == null ? "" : " AND type = ?")
            + (subject == null ? "" : " AND subject = ?")
            + " ORDER BY idx";
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      int k = 1;
      if (type != null) {
        ps.setString(k++, type);
      }
      if (subject != null) {
        ps.setString(k, subject);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rows:
        while (rs.next()) {
          if (!rs.getString(1).startsWith("enc:")) {
            throw new AssertionError("an audit event row is stored in clear");
          }
          String event = store.openEvent(rs.getString(1), rs.getBytes(2));
          for (String t : texts) {
            if (!event.contains(t)) {
              continue rows;
            }
          }
          n++;
        }
      }
    }
    return n;
  }
}
