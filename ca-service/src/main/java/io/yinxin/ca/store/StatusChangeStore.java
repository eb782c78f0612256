package io.yinxin.ca.store;

import io.yinxin.ca.store.CertificateRecord.Status;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@code ca.status_changes}: the feed other nodes follow by sequence, and delta CRLs read. */
public final class StatusChangeStore {
  private final CaStore db;

  StatusChangeStore(CaStore db) {
    this.db = db;
  }

  /** The newest sequence number of {@code ca.status_changes}, 0 if there is none. */
  public long lastStatusChangeSeq() {
    return db.inTransaction(
        c -> {
          try (PreparedStatement ps =
                  c.prepareStatement("SELECT COALESCE(MAX(seq), 0) FROM ca.status_changes");
              ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  private static final String FEED_SELECT =
      "SELECT s.seq, s.issuer, s.serial, s.status, c.key_sha256, s.reason FROM ca.status_changes s"
          + " JOIN ca.certificates c ON c.issuer = s.issuer AND c.serial = s.serial";

  /**
   * Status changes with a sequence number above {@code after}, oldest first, at most {@code limit}.
   */
  public List<io.yinxin.ca.revoke.StatusFeed.Change> statusChangesAfter(long after, int limit) {
    return db.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(FEED_SELECT + " WHERE s.seq > ? ORDER BY s.seq LIMIT ?")) {
            ps.setLong(1, after);
            ps.setInt(2, limit);
            return feed(ps);
          }
        });
  }

  /** The status changes among {@code seqs} that exist (committed) now. */
  public List<io.yinxin.ca.revoke.StatusFeed.Change> statusChangesIn(List<Long> seqs) {
    if (seqs.isEmpty()) {
      return List.of();
    }
    String marks = String.join(", ", java.util.Collections.nCopies(seqs.size(), "?"));
    return db.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(FEED_SELECT + " WHERE s.seq IN (" + marks + ") ORDER BY s.seq")) {
            for (int i = 0; i < seqs.size(); i++) {
              ps.setLong(i + 1, seqs.get(i));
            }
            return feed(ps);
          }
        });
  }

  private static List<io.yinxin.ca.revoke.StatusFeed.Change> feed(PreparedStatement ps)
      throws SQLException {
    List<io.yinxin.ca.revoke.StatusFeed.Change> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new io.yinxin.ca.revoke.StatusFeed.Change(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                Status.of(rs.getString(4)),
                rs.getBytes(5),
                rs.getShort(6)));
      }
    }
    return out;
  }

  /** A change of status, for delta CRLs and OCSP cache invalidation. */
  public record StatusChange(
      String issuer,
      String serial,
      int partition,
      Status status,
      int reason,
      Instant at,
      Optional<Instant> invalidity) {}

  private static Optional<Instant> instant(ResultSet rs, int column) throws SQLException {
    return Optional.ofNullable(rs.getObject(column, OffsetDateTime.class))
        .map(OffsetDateTime::toInstant);
  }

  /** Changes at or after {@code since}, optionally for one CA partition, oldest first. */
  public List<StatusChange> changesSince(
      Connection c, Optional<String> issuer, Optional<Integer> partition, Instant since)
      throws SQLException {
    String sql =
        "SELECT issuer, serial, crl_partition, status, reason, changed_at, invalidity_date"
            + " FROM ca.status_changes"
            + " WHERE changed_at >= ?"
            + (issuer.isPresent() ? " AND issuer = ? AND crl_partition = ?" : "")
            + " ORDER BY seq";
    List<StatusChange> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, CaStore.odt(since));
      if (issuer.isPresent()) {
        ps.setString(2, issuer.get());
        ps.setInt(3, partition.orElse(0));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new StatusChange(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getInt(3),
                  Status.of(rs.getString(4)),
                  rs.getShort(5),
                  rs.getObject(6, OffsetDateTime.class).toInstant(),
                  instant(rs, 7)));
        }
      }
    }
    return out;
  }

  public List<StatusChange> changesSince(Instant since) {
    return db.inTransaction(c -> changesSince(c, Optional.empty(), Optional.empty(), since));
  }

  /** How far back gaps are looked for: a transaction that stays open longer is not expected. */
  static final int SNAPSHOT_WINDOW = 10_000;

  /**
   * What one transaction sees of the feed: the highest visible sequence number, and the lower ones
   * (within {@link #SNAPSHOT_WINDOW}) it does not see — taken by transactions not committed yet, or
   * by ones that rolled back.
   *
   * @param seq the highest visible sequence number, 0 for an empty feed
   * @param gaps sequence numbers at most {@code seq} that were not visible
   */
  public record Snapshot(long seq, List<Long> gaps) {
    public Snapshot {
      gaps = List.copyOf(gaps);
    }

    /** The text stored with a CRL. */
    public String gapsText() {
      return gaps.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","));
    }

    public static Snapshot of(long seq, String gapsText) {
      List<Long> gaps = new ArrayList<>();
      if (gapsText != null && !gapsText.isEmpty()) {
        for (String g : gapsText.split(",")) {
          gaps.add(Long.parseLong(g));
        }
      }
      return new Snapshot(seq, gaps);
    }
  }

  /** The feed as this transaction sees it; take it before reading what the snapshot covers. */
  public Snapshot snapshot(Connection c) throws SQLException {
    long max;
    try (PreparedStatement ps = c.prepareStatement("SELECT MAX(seq) FROM ca.status_changes");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      max = rs.getLong(1);
    }
    long from = Math.max(1, max - SNAPSHOT_WINDOW + 1);
    List<Long> gaps = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT seq FROM ca.status_changes WHERE seq >= ? AND seq <= ? ORDER BY seq")) {
      ps.setLong(1, from);
      ps.setLong(2, max);
      try (ResultSet rs = ps.executeQuery()) {
        long expect = from;
        while (rs.next()) {
          long seq = rs.getLong(1);
          for (; expect < seq; expect++) {
            gaps.add(expect);
          }
          expect = seq + 1;
        }
      }
    }
    return new Snapshot(max, gaps);
  }

  /**
   * The changes of one CA partition that a transaction with {@code snapshot} did not see, oldest
   * first: higher sequence numbers and its gaps. Where there is no snapshot (CRLs from before it
   * was kept), the changes stamped at or after {@code since}.
   */
  public List<StatusChange> changesAfter(
      Connection c, String issuer, int partition, Optional<Snapshot> snapshot, Instant since)
      throws SQLException {
    if (snapshot.isEmpty()) {
      return changesSince(c, Optional.of(issuer), Optional.of(partition), since);
    }
    Snapshot s = snapshot.get();
    long low = s.gaps().isEmpty() ? s.seq() + 1 : s.gaps().get(0);
    java.util.Set<Long> gaps = new java.util.HashSet<>(s.gaps());
    List<StatusChange> out = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT seq, issuer, serial, crl_partition, status, reason, changed_at,"
                + " invalidity_date FROM ca.status_changes WHERE issuer = ? AND crl_partition = ? AND seq >= ?"
                + " ORDER BY seq")) {
      ps.setString(1, issuer);
      ps.setInt(2, partition);
      ps.setLong(3, low);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long seq = rs.getLong(1);
          if (seq <= s.seq() && !gaps.contains(seq)) {
            continue; // the full CRL saw it
          }
          out.add(
              new StatusChange(
                  rs.getString(2),
                  rs.getString(3),
                  rs.getInt(4),
                  Status.of(rs.getString(5)),
                  rs.getShort(6),
                  rs.getObject(7, OffsetDateTime.class).toInstant(),
                  instant(rs, 8)));
        }
      }
    }
    return out;
  }
}
