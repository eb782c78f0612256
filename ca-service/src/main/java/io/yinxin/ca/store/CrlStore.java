package io.yinxin.ca.store;

import io.yinxin.ca.CaException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Published CRLs and what goes into them: revoked certificates by partition, CRL numbers. */
public final class CrlStore {
  private final CaStore db;

  CrlStore(CaStore db) {
    this.db = db;
  }

  // ---- revocation information

  /** One revoked certificate as a CRL lists it. */
  public record RevokedEntry(String serial, Instant revokedAt, int reason) {}

  /** Consumer of revoked entries, streamed without holding them all. */
  @FunctionalInterface
  public interface EntrySink {
    /**
     * @param invalidityMillis the entry's invalidity date, -1 for none
     */
    void accept(String serialHex, long revokedAtMillis, int reason, long invalidityMillis);
  }

  /** Streams the revocation list of one CA partition; returns how many entries. */
  public int revoked(Connection c, String issuer, int partition, EntrySink sink)
      throws SQLException {
    int n = 0;
    try (PreparedStatement ps =
        c.prepareStatement(
            // Epoch milliseconds computed by the database: a million timestamp objects less.
            "SELECT serial, CAST(EXTRACT(EPOCH FROM revoked_at) * 1000 AS BIGINT), reason,"
                + " CAST(EXTRACT(EPOCH FROM invalidity_date) * 1000 AS BIGINT)"
                + " FROM ca.revoked WHERE issuer = ? AND crl_partition = ?")) {
      ps.setFetchSize(10_000);
      ps.setString(1, issuer);
      ps.setInt(2, partition);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long invalidity = rs.getLong(4);
          sink.accept(
              rs.getString(1), rs.getLong(2), rs.getShort(3), rs.wasNull() ? -1 : invalidity);
          n++;
        }
      }
    }
    return n;
  }

  /** The partitions that hold certificates of a CA. */
  public List<Integer> partitions(String issuer) {
    return db.list(
        "SELECT DISTINCT crl_partition FROM ca.certificates WHERE issuer = ?"
            + " ORDER BY crl_partition",
        issuer,
        rs -> rs.getInt(1));
  }

  /** Increments and returns the CA's CRL number (monotonic across partitions and deltas). */
  public long nextCrlNumber(Connection c, String issuer) throws SQLException {
    try (PreparedStatement up =
        c.prepareStatement(
            "UPDATE ca.authorities SET crl_number = crl_number + 1 WHERE name = ?")) {
      up.setString(1, issuer);
      if (up.executeUpdate() != 1) {
        throw new CaException(CaException.Code.NOT_FOUND, "no CA " + issuer);
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement("SELECT crl_number FROM ca.authorities WHERE name = ?")) {
      ps.setString(1, issuer);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * A published CRL.
   *
   * @param baseNumber for a delta CRL, the full CRL it completes
   */
  public record CrlRecord(
      String issuer,
      long number,
      int partition,
      Optional<Long> baseNumber,
      Instant thisUpdate,
      Instant nextUpdate,
      int entries,
      byte[] der) {}

  /** Stores a CRL and drops all but the newest two of its kind for the partition. */
  public void insertCrl(Connection c, CrlRecord r) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO ca.crls (issuer, crl_number, crl_partition, base_number, this_update,"
                + " next_update, entries, der) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, r.issuer());
      ps.setLong(2, r.number());
      ps.setInt(3, r.partition());
      if (r.baseNumber().isPresent()) {
        ps.setLong(4, r.baseNumber().get());
      } else {
        ps.setNull(4, java.sql.Types.BIGINT);
      }
      ps.setObject(5, CaStore.odt(r.thisUpdate()));
      ps.setObject(6, CaStore.odt(r.nextUpdate()));
      ps.setInt(7, r.entries());
      ps.setBytes(8, r.der());
      ps.executeUpdate();
    }
    String kind = r.baseNumber().isPresent() ? "base_number IS NOT NULL" : "base_number IS NULL";
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM ca.crls WHERE issuer = ? AND crl_partition = ? AND "
                + kind
                + " AND crl_number < (SELECT MIN(n) FROM (SELECT crl_number AS n FROM ca.crls"
                + " WHERE issuer = ? AND crl_partition = ? AND "
                + kind
                + " ORDER BY crl_number DESC LIMIT 2) newest)")) {
      ps.setString(1, r.issuer());
      ps.setInt(2, r.partition());
      ps.setString(3, r.issuer());
      ps.setInt(4, r.partition());
      ps.executeUpdate();
    }
  }

  /** Notes what a full CRL saw of the status feed (see {@link StatusChangeStore#snapshot}). */
  public void recordSnapshot(
      Connection c, String issuer, long number, StatusChangeStore.Snapshot snapshot)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE ca.crls SET snapshot_seq = ?, snapshot_gaps = ? WHERE issuer = ?"
                + " AND crl_number = ?")) {
      ps.setLong(1, snapshot.seq());
      ps.setString(2, snapshot.gapsText());
      ps.setString(3, issuer);
      ps.setLong(4, number);
      ps.executeUpdate();
    }
  }

  /** What a stored full CRL saw of the status feed, if it was noted. */
  public Optional<StatusChangeStore.Snapshot> snapshot(Connection c, String issuer, long number)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT snapshot_seq, snapshot_gaps FROM ca.crls WHERE issuer = ? AND crl_number = ?")) {
      ps.setString(1, issuer);
      ps.setLong(2, number);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        long seq = rs.getLong(1);
        return rs.wasNull()
            ? Optional.empty()
            : Optional.of(StatusChangeStore.Snapshot.of(seq, rs.getString(2)));
      }
    }
  }

  /** When the newest full or delta CRL of a CA's partition was made and when it runs out. */
  public record CrlTimes(
      String issuer, int partition, boolean delta, Instant thisUpdate, Instant nextUpdate) {}

  /** The times of the newest full and the newest delta CRL of every CA's partitions. */
  public List<CrlTimes> newestTimes() {
    return db.inTransaction(
        c -> {
          List<CrlTimes> out = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT c.issuer, c.crl_partition, c.base_number, c.this_update,"
                          + " c.next_update FROM ca.crls c JOIN (SELECT issuer, crl_partition,"
                          + " CASE WHEN base_number IS NULL THEN 0 ELSE 1 END AS kind,"
                          + " MAX(crl_number) AS newest FROM ca.crls GROUP BY issuer,"
                          + " crl_partition, CASE WHEN base_number IS NULL THEN 0 ELSE 1 END) m"
                          + " ON c.issuer = m.issuer AND c.crl_number = m.newest");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              String issuer = rs.getString(1);
              int partition = rs.getInt(2);
              rs.getLong(3);
              boolean delta = !rs.wasNull();
              out.add(
                  new CrlTimes(
                      issuer,
                      partition,
                      delta,
                      rs.getObject(4, OffsetDateTime.class).toInstant(),
                      rs.getObject(5, OffsetDateTime.class).toInstant()));
            }
          }
          return out;
        });
  }

  /** The newest full ({@code delta=false}) or delta CRL of a partition. */
  public Optional<CrlRecord> latestCrl(String issuer, int partition, boolean delta) {
    return db.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT issuer, crl_number, crl_partition, base_number, this_update,"
                      + " next_update, entries, der FROM ca.crls WHERE issuer = ? AND"
                      + " crl_partition = ? AND base_number IS "
                      + (delta ? "NOT NULL" : "NULL")
                      + " ORDER BY crl_number DESC LIMIT 1")) {
            ps.setString(1, issuer);
            ps.setInt(2, partition);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              long base = rs.getLong(4);
              return Optional.of(
                  new CrlRecord(
                      rs.getString(1),
                      rs.getLong(2),
                      rs.getInt(3),
                      rs.wasNull() ? Optional.empty() : Optional.of(base),
                      rs.getObject(5, OffsetDateTime.class).toInstant(),
                      rs.getObject(6, OffsetDateTime.class).toInstant(),
                      rs.getInt(7),
                      rs.getBytes(8)));
            }
          }
        });
  }

  /** Bulk-inserts revoked certificates (benchmarks and migrations from another CA). */
  public void insertRevokedBulk(
      Connection c, String issuer, int partition, List<RevokedEntry> entries) throws SQLException {
    try (PreparedStatement ins =
        c.prepareStatement(
            "INSERT INTO ca.revoked (issuer, serial, crl_partition, revoked_at, reason)"
                + " VALUES (?, ?, ?, ?, ?)")) {
      for (RevokedEntry e : entries) {
        ins.setString(1, issuer);
        ins.setString(2, e.serial());
        ins.setInt(3, partition);
        ins.setObject(4, CaStore.odt(e.revokedAt()));
        ins.setShort(5, (short) e.reason());
        ins.addBatch();
      }
      ins.executeBatch();
    }
  }
}
