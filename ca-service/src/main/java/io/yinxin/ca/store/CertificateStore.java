package io.yinxin.ca.store;

import io.yinxin.ca.CaException;
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

/** Issued certificates: storing, finding, searching, and status changes (revoke, hold, release). */
public final class CertificateStore {
  private final CaStore db;

  CertificateStore(CaStore db) {
    this.db = db;
  }

  // ---- certificates

  /** Takes a block of 1000 partition slots; slot / partition size is a certificate's partition. */
  public long nextSlotBlock() {
    return db.inTransaction(
        c -> {
          String sql =
              db.postgres()
                  ? "SELECT nextval('ca.certificate_slots')"
                  : "SELECT NEXT VALUE FOR ca.certificate_slots";
          try (PreparedStatement ps = c.prepareStatement(sql);
              ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  public void insertCertificate(Connection c, CertificateRecord r) throws SQLException {
    insertCertificates(c, List.of(r));
  }

  /** Inserts certificate rows in one JDBC batch. */
  public void insertCertificates(Connection c, List<CertificateRecord> rows) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO ca.certificates (issuer, serial, profile, subject, key_sha256, not_before,"
                + " not_after, crl_partition, status, issued_at, der)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      for (CertificateRecord r : rows) {
        ps.setString(1, r.issuer());
        ps.setString(2, r.serial());
        ps.setString(3, r.profile());
        ps.setString(4, r.subject());
        ps.setBytes(5, r.keySha256());
        ps.setObject(6, CaStore.odt(r.notBefore()));
        ps.setObject(7, CaStore.odt(r.notAfter()));
        ps.setInt(8, r.partition());
        ps.setString(9, r.status().code());
        ps.setObject(10, CaStore.odt(r.issuedAt()));
        ps.setBytes(11, r.der());
        if (rows.size() == 1) {
          ps.executeUpdate();
        } else {
          ps.addBatch();
        }
      }
      if (rows.size() > 1) {
        ps.executeBatch();
      }
    }
  }

  /**
   * What counts as a revoked key: a certificate revoked for any reason but its CA's compromise
   * (reason 2, cACompromise), which says nothing about the subscriber's own key. Hold does not
   * count.
   */
  static final String KEY_REVOKED = "status = 'R' AND (reason IS NULL OR reason <> 2)";

  /** Whether a certificate for this key was ever revoked (see {@link #KEY_REVOKED}). */
  public boolean keyWasRevoked(byte[] keySha256) {
    return db.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT 1 FROM ca.certificates WHERE key_sha256 = ? AND " + KEY_REVOKED)) {
            ps.setBytes(1, keySha256);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next();
            }
          }
        });
  }

  /** Calls {@code sink} with the key hash of every revoked certificate, streamed. */
  public void forEachRevokedKey(java.util.function.Consumer<byte[]> sink) {
    db.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT key_sha256 FROM ca.certificates WHERE " + KEY_REVOKED)) {
            ps.setFetchSize(10_000);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                sink.accept(rs.getBytes(1));
              }
            }
          }
          return null;
        });
  }

  /** Key hashes of the certificates revoked at or after {@code since} (on any node). */
  public List<byte[]> keysRevokedSince(Instant since) {
    return db.inTransaction(
        c -> {
          List<byte[]> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT c.key_sha256 FROM ca.status_changes s JOIN ca.certificates c"
                      + " ON c.issuer = s.issuer AND c.serial = s.serial"
                      + " WHERE s.changed_at >= ? AND s.status = 'R'"
                      + " AND (s.reason IS NULL OR s.reason <> 2)")) {
            ps.setObject(1, CaStore.odt(since));
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(rs.getBytes(1));
              }
            }
          }
          return out;
        });
  }

  private static final String CERT_COLUMNS =
      "issuer, serial, profile, subject, key_sha256, not_before, not_after, crl_partition, status,"
          + " revoked_at, reason, issued_at, der, invalidity_date";

  public Optional<CertificateRecord> certificate(String issuer, String serial) {
    return db.inTransaction(c -> certificate(c, issuer, serial, false));
  }

  private Optional<CertificateRecord> certificate(
      Connection c, String issuer, String serial, boolean forUpdate) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT "
                + CERT_COLUMNS
                + " FROM ca.certificates WHERE issuer = ? AND serial = ?"
                + (forUpdate ? " FOR UPDATE" : ""))) {
      ps.setString(1, issuer);
      ps.setString(2, serial);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(row(rs)) : Optional.empty();
      }
    }
  }

  /** A certificate by its issuing CA and serial: where a page of a search ends. */
  public record Position(String issuer, String serial) {}

  /**
   * A search over issued certificates, newest first (then by CA and serial, so the order is total).
   *
   * @param subjectContains substring of the subject DN, or empty
   * @param after the last certificate of the previous page; the page goes on after it in this
   *     order, however many certificates were issued since. It must exist.
   * @throws CaException {@code INVALID_REQUEST} when {@code after} names no certificate
   */
  public List<CertificateRecord> search(
      Optional<String> issuer,
      Optional<String> profile,
      Optional<Status> status,
      Optional<String> subjectContains,
      Optional<Position> after,
      int limit) {
    StringBuilder sql = new StringBuilder("SELECT ");
    sql.append(
        java.util.Arrays.stream(CERT_COLUMNS.split(","))
            .map(col -> "c." + col.strip())
            .collect(java.util.stream.Collectors.joining(", ")));
    sql.append(" FROM ca.certificates c");
    List<Object> args = new ArrayList<>();
    if (after.isPresent()) {
      if (certificate(after.get().issuer(), after.get().serial()).isEmpty()) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST, "after", "the issuer/serial of a listed certificate");
      }
      sql.append(
          " JOIN ca.certificates a ON a.issuer = ? AND a.serial = ?"
              + " WHERE (c.issued_at < a.issued_at OR (c.issued_at = a.issued_at"
              + " AND (c.issuer > a.issuer OR (c.issuer = a.issuer AND c.serial > a.serial))))");
      args.add(after.get().issuer());
      args.add(after.get().serial());
    } else {
      sql.append(" WHERE 1=1");
    }
    issuer.ifPresent(
        v -> {
          sql.append(" AND c.issuer = ?");
          args.add(v);
        });
    profile.ifPresent(
        v -> {
          sql.append(" AND c.profile = ?");
          args.add(v);
        });
    status.ifPresent(
        v -> {
          sql.append(" AND c.status = ?");
          args.add(v.code());
        });
    subjectContains.ifPresent(
        v -> {
          sql.append(" AND c.subject LIKE ? ESCAPE '!'");
          args.add("%" + v.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%");
        });
    sql.append(" ORDER BY c.issued_at DESC, c.issuer, c.serial LIMIT ?");
    args.add(limit);
    return db.inTransaction(
        c -> {
          List<CertificateRecord> out = new ArrayList<>();
          try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
              ps.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(row(rs));
              }
            }
          }
          return out;
        });
  }

  /**
   * Changes a certificate's status in one transaction: the certificate row, the revocation list and
   * the change history. {@code beforeCommit} runs last inside the transaction (the audit event), so
   * a failure there leaves nothing changed.
   *
   * @param to REVOKED, ON_HOLD or VALID (release from hold)
   * @param reason CRLReason code for REVOKED / ON_HOLD
   * @throws CaException {@code NOT_FOUND}, or {@code CONFLICT} when the transition is not allowed
   */
  public CertificateRecord changeStatus(
      String issuer,
      String serial,
      Status to,
      int reason,
      Instant at,
      CaStore.Evidence beforeCommit) {
    return changeStatus(issuer, serial, to, reason, at, Optional.empty(), beforeCommit);
  }

  /**
   * {@link #changeStatus(String, String, Status, int, Instant, CaStore.Evidence)} with an RFC 5280
   * invalidity date for a revocation.
   */
  public CertificateRecord changeStatus(
      String issuer,
      String serial,
      Status to,
      int reason,
      Instant at,
      Optional<Instant> invalidity,
      CaStore.Evidence beforeCommit) {
    Object invalidityParam = to == Status.VALID ? null : invalidity.map(CaStore::odt).orElse(null);
    return db.inTransaction(
        c -> {
          CertificateRecord cur =
              certificate(c, issuer, serial, true)
                  .orElseThrow(
                      () ->
                          new CaException(
                              CaException.Code.NOT_FOUND,
                              "no certificate " + issuer + "/" + serial));
          Status from = cur.status();
          boolean allowed =
              switch (to) {
                case REVOKED -> from != Status.REVOKED;
                case ON_HOLD -> from == Status.VALID;
                case VALID -> from == Status.ON_HOLD;
              };
          if (!allowed) {
            throw new CaException(
                CaException.Code.CONFLICT,
                "certificate is "
                    + from.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                    + "; cannot change it to "
                    + to.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '));
          }
          Instant revokedAt = to == Status.VALID ? null : at;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE ca.certificates SET status = ?, revoked_at = ?, reason = ?,"
                      + " invalidity_date = ? WHERE issuer = ? AND serial = ?")) {
            ps.setString(1, to.code());
            ps.setObject(2, revokedAt == null ? null : CaStore.odt(revokedAt));
            if (to == Status.VALID) {
              ps.setNull(3, java.sql.Types.SMALLINT);
            } else {
              ps.setShort(3, (short) reason);
            }
            ps.setObject(4, invalidityParam, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
            ps.setString(5, issuer);
            ps.setString(6, serial);
            ps.executeUpdate();
          }
          try (PreparedStatement del =
              c.prepareStatement("DELETE FROM ca.revoked WHERE issuer = ? AND serial = ?")) {
            del.setString(1, issuer);
            del.setString(2, serial);
            del.executeUpdate();
          }
          if (to != Status.VALID) {
            try (PreparedStatement ins =
                c.prepareStatement(
                    "INSERT INTO ca.revoked (issuer, serial, crl_partition, revoked_at, reason,"
                        + " invalidity_date) VALUES (?, ?, ?, ?, ?, ?)")) {
              ins.setString(1, issuer);
              ins.setString(2, serial);
              ins.setInt(3, cur.partition());
              ins.setObject(4, CaStore.odt(at));
              ins.setShort(5, (short) reason);
              ins.setObject(6, invalidityParam, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
              ins.executeUpdate();
            }
          }
          try (PreparedStatement ch =
              c.prepareStatement(
                  "INSERT INTO ca.status_changes (issuer, serial, crl_partition, status, reason,"
                      + " changed_at, invalidity_date) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ch.setString(1, issuer);
            ch.setString(2, serial);
            ch.setInt(3, cur.partition());
            ch.setString(4, to.code());
            if (to == Status.VALID) {
              ch.setNull(5, java.sql.Types.SMALLINT);
            } else {
              ch.setShort(5, (short) reason);
            }
            ch.setObject(6, CaStore.odt(Instant.now()));
            ch.setObject(7, invalidityParam, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
            ch.executeUpdate();
          }
          CertificateRecord updated =
              new CertificateRecord(
                  cur.issuer(),
                  cur.serial(),
                  cur.profile(),
                  cur.subject(),
                  cur.keySha256(),
                  cur.notBefore(),
                  cur.notAfter(),
                  cur.partition(),
                  to,
                  Optional.ofNullable(revokedAt),
                  to == Status.VALID ? Optional.empty() : Optional.of(reason),
                  cur.issuedAt(),
                  cur.der(),
                  to == Status.VALID ? Optional.empty() : invalidity);
          beforeCommit.record(c, updated);
          return updated;
        });
  }

  /**
   * Revokes every certificate of {@code issuer} that is valid or on hold, in the caller's
   * transaction: the rows are locked first (a concurrent single revocation waits or is waited for),
   * then the certificate rows, the revocation list and the status feed change in JDBC batches.
   *
   * @return the certificates as they are now, without their DER (not read, to bound memory)
   */
  public List<CertificateRecord> revokeAllIssuedBy(
      Connection c, String issuer, int reason, Instant at) throws SQLException {
    List<CertificateRecord> locked = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT serial, profile, subject, key_sha256, not_before, not_after, crl_partition,"
                + " status, issued_at FROM ca.certificates WHERE issuer = ? AND status IN ('V', 'H')"
                + " ORDER BY serial FOR UPDATE")) {
      ps.setString(1, issuer);
      ps.setFetchSize(10_000);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          locked.add(
              new CertificateRecord(
                  issuer,
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getBytes(4),
                  rs.getObject(5, OffsetDateTime.class).toInstant(),
                  rs.getObject(6, OffsetDateTime.class).toInstant(),
                  rs.getInt(7),
                  Status.of(rs.getString(8)),
                  Optional.of(at),
                  Optional.of(reason),
                  rs.getObject(9, OffsetDateTime.class).toInstant(),
                  new byte[0]));
        }
      }
    }
    if (locked.isEmpty()) {
      return List.of();
    }
    Object atParam = CaStore.odt(at);
    Object nowParam = CaStore.odt(Instant.now());
    try (PreparedStatement up =
            c.prepareStatement(
                "UPDATE ca.certificates SET status = 'R', revoked_at = ?, reason = ?"
                    + " WHERE issuer = ? AND serial = ?");
        PreparedStatement del =
            c.prepareStatement("DELETE FROM ca.revoked WHERE issuer = ? AND serial = ?");
        PreparedStatement ins =
            c.prepareStatement(
                "INSERT INTO ca.revoked (issuer, serial, crl_partition, revoked_at, reason)"
                    + " VALUES (?, ?, ?, ?, ?)");
        PreparedStatement ch =
            c.prepareStatement(
                "INSERT INTO ca.status_changes (issuer, serial, crl_partition, status, reason,"
                    + " changed_at) VALUES (?, ?, ?, 'R', ?, ?)")) {
      int n = 0;
      boolean deletes = false;
      for (CertificateRecord r : locked) {
        up.setObject(1, atParam);
        up.setShort(2, (short) reason);
        up.setString(3, issuer);
        up.setString(4, r.serial());
        up.addBatch();
        if (r.status() == Status.ON_HOLD) {
          del.setString(1, issuer);
          del.setString(2, r.serial());
          del.addBatch();
          deletes = true;
        }
        ins.setString(1, issuer);
        ins.setString(2, r.serial());
        ins.setInt(3, r.partition());
        ins.setObject(4, atParam);
        ins.setShort(5, (short) reason);
        ins.addBatch();
        ch.setString(1, issuer);
        ch.setString(2, r.serial());
        ch.setInt(3, r.partition());
        ch.setShort(4, (short) reason);
        ch.setObject(5, nowParam);
        ch.addBatch();
        if (++n % 5_000 == 0) {
          up.executeBatch();
          if (deletes) {
            del.executeBatch();
            deletes = false;
          }
          ins.executeBatch();
          ch.executeBatch();
        }
      }
      up.executeBatch();
      if (deletes) {
        del.executeBatch();
      }
      ins.executeBatch();
      ch.executeBatch();
    }
    List<CertificateRecord> out = new ArrayList<>(locked.size());
    for (CertificateRecord r : locked) {
      out.add(
          new CertificateRecord(
              r.issuer(),
              r.serial(),
              r.profile(),
              r.subject(),
              r.keySha256(),
              r.notBefore(),
              r.notAfter(),
              r.partition(),
              Status.REVOKED,
              r.revokedAt(),
              r.reason(),
              r.issuedAt(),
              r.der()));
    }
    return out;
  }

  /** How many certificates of {@code issuer} have each status code (V, R, H). */
  public java.util.Map<Status, Long> countByStatus(String issuer) {
    return db.inTransaction(
        c -> {
          java.util.Map<Status, Long> out = new java.util.EnumMap<>(Status.class);
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT status, COUNT(*) FROM ca.certificates WHERE issuer = ? GROUP BY status")) {
            ps.setString(1, issuer);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.put(Status.of(rs.getString(1)), rs.getLong(2));
              }
            }
          }
          return out;
        });
  }

  /**
   * Certificates of {@code issuer} revoked for its compromise, not expired at {@code now} and not
   * re-issued yet, oldest serial first.
   */
  public List<CertificateRecord> awaitingReissue(String issuer, Instant now, int limit) {
    return db.inTransaction(
        c -> {
          List<CertificateRecord> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + CERT_COLUMNS
                      + " FROM ca.certificates c WHERE issuer = ? AND status = 'R' AND reason = 2"
                      + " AND not_after > ? AND NOT EXISTS (SELECT 1 FROM ca.reissued r"
                      + " WHERE r.issuer = c.issuer AND r.serial = c.serial)"
                      + " ORDER BY serial LIMIT ?")) {
            ps.setString(1, issuer);
            ps.setObject(2, CaStore.odt(now));
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(row(rs));
              }
            }
          }
          return out;
        });
  }

  /** How many certificates {@link #awaitingReissue} would still return. */
  public long countAwaitingReissue(String issuer, Instant now) {
    return db.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT COUNT(*) FROM ca.certificates c WHERE issuer = ? AND status = 'R'"
                      + " AND reason = 2 AND not_after > ? AND NOT EXISTS (SELECT 1 FROM"
                      + " ca.reissued r WHERE r.issuer = c.issuer AND r.serial = c.serial)")) {
            ps.setString(1, issuer);
            ps.setObject(2, CaStore.odt(now));
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }

  /**
   * Records that {@code old} was re-issued (or, with an empty {@code newSerial}, passed over for
   * good: its key was revoked for its own sake), in the caller's transaction.
   *
   * @return false if it was recorded already (another node re-issued it first)
   */
  public boolean markReissued(
      Connection c, CertificateRecord old, String newIssuer, String newSerial, Instant at)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO ca.reissued (issuer, serial, new_issuer, new_serial, reissued_at)"
                + " VALUES (?, ?, ?, ?, ?)")) {
      ps.setString(1, old.issuer());
      ps.setString(2, old.serial());
      ps.setString(3, newIssuer);
      ps.setString(4, newSerial);
      ps.setObject(5, CaStore.odt(at));
      ps.executeUpdate();
      return true;
    } catch (SQLException e) {
      if ("23505".equals(e.getSQLState())) {
        return false;
      }
      throw e;
    }
  }

  private static CertificateRecord row(ResultSet rs) throws SQLException {
    OffsetDateTime revokedAt = rs.getObject(10, OffsetDateTime.class);
    short reason = rs.getShort(11);
    boolean noReason = rs.wasNull();
    return new CertificateRecord(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getBytes(5),
        rs.getObject(6, OffsetDateTime.class).toInstant(),
        rs.getObject(7, OffsetDateTime.class).toInstant(),
        rs.getInt(8),
        Status.of(rs.getString(9)),
        Optional.ofNullable(revokedAt).map(OffsetDateTime::toInstant),
        noReason ? Optional.empty() : Optional.of((int) reason),
        rs.getObject(12, OffsetDateTime.class).toInstant(),
        rs.getBytes(13),
        Optional.ofNullable(rs.getObject(14, OffsetDateTime.class)).map(OffsetDateTime::toInstant));
  }
}
