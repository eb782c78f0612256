package io.yinxin.ca.store;

import io.yinxin.ca.CaException;
import io.yinxin.ca.store.CertificateRecord.Status;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** SQL for schema {@code ca}, on PostgreSQL or H2. */
public final class CaStore {
  private final DataSource dataSource;
  private final boolean postgres;

  /**
   * Migrates schema {@code ca} (its own Flyway history, {@code ca.flyway_history}) and opens it.
   */
  public static CaStore open(DataSource dataSource) {
    org.flywaydb.core.Flyway.configure()
        .dataSource(dataSource)
        .schemas("ca")
        .createSchemas(true)
        .locations("classpath:db/ca")
        .table("flyway_history")
        .load()
        .migrate();
    return new CaStore(dataSource);
  }

  private CaStore(DataSource dataSource) {
    this.dataSource = dataSource;
    try (Connection c = dataSource.getConnection()) {
      this.postgres =
          c.getMetaData()
              .getDatabaseProductName()
              .toLowerCase(java.util.Locale.ROOT)
              .contains("postgres");
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  /** Records the evidence of a change in the change's own transaction. */
  @FunctionalInterface
  public interface Evidence {
    void record(Connection c, CertificateRecord changed) throws SQLException;
  }

  /** Work inside one transaction. */
  @FunctionalInterface
  public interface Tx<T> {
    T run(Connection c) throws SQLException;
  }

  /**
   * Runs {@code work} in a transaction; commits if it returns, rolls back if it throws. It returns
   * only once the commit is in the database file: PostgreSQL's commit waits for its WAL flush; H2
   * writes commits in the background, so it is made to write and fsync them ({@code CHECKPOINT
   * SYNC}) before a caller is told a certificate or revocation exists.
   */
  public <T> T inTransaction(Tx<T> work) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        if (!postgres) {
          try (Statement s = c.createStatement()) {
            s.execute("CHECKPOINT SYNC");
          }
        }
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  /** Maps one result row. */
  @FunctionalInterface
  public interface Row<T> {
    T map(ResultSet rs) throws SQLException;
  }

  /** The rows of a query with one string parameter, in their own transaction. */
  public <T> List<T> list(String sql, String param, Row<T> row) {
    return inTransaction(
        c -> {
          List<T> out = new ArrayList<>();
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, param);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(row.map(rs));
              }
            }
          }
          return out;
        });
  }

  // ---- authorities

  /**
   * A CA as stored.
   *
   * @param name short name
   * @param parent its issuer, if any
   * @param keyRef key URI
   * @param signatureAlgorithm {@code SignatureAlgorithm} name
   * @param certificate DER
   */
  public record AuthorityRecord(
      String name,
      Optional<String> parent,
      String keyRef,
      String signatureAlgorithm,
      byte[] certificate) {}

  public List<AuthorityRecord> authorities() {
    return inTransaction(
        c -> {
          List<AuthorityRecord> out = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT name, parent, key_ref, sig_alg, certificate FROM ca.authorities"
                          + " ORDER BY created_at, name");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(
                  new AuthorityRecord(
                      rs.getString(1),
                      Optional.ofNullable(rs.getString(2)),
                      rs.getString(3),
                      rs.getString(4),
                      rs.getBytes(5)));
            }
          }
          return out;
        });
  }

  /** Inserts a CA and its certificate row; false if a CA of that name exists already. */
  public boolean insertAuthority(Connection c, AuthorityRecord a, CertificateRecord cert)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM ca.authorities WHERE name = ?")) {
      ps.setString(1, a.name());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return false;
        }
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO ca.authorities (name, parent, key_ref, sig_alg, certificate, created_at)"
                + " VALUES (?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, a.name());
      ps.setString(2, a.parent().orElse(null));
      ps.setString(3, a.keyRef());
      ps.setString(4, a.signatureAlgorithm());
      ps.setBytes(5, a.certificate());
      ps.setObject(6, odt(Instant.now()));
      ps.executeUpdate();
    }
    insertCertificate(c, cert);
    return true;
  }

  // ---- service certificates

  /**
   * A certificate the system uses itself, with its key.
   *
   * @param name e.g. {@code ocsp-citizen}, {@code tsa}
   */
  public record ServiceRecord(
      String name, String issuer, String serial, String keyRef, String signatureAlgorithm) {}

  public Optional<ServiceRecord> service(String name) {
    return inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT name, issuer, serial, key_ref, sig_alg FROM ca.service_certificates"
                      + " WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next()
                  ? Optional.of(
                      new ServiceRecord(
                          rs.getString(1),
                          rs.getString(2),
                          rs.getString(3),
                          rs.getString(4),
                          rs.getString(5)))
                  : Optional.empty();
            }
          }
        });
  }

  /** Records a service certificate (and its certificate row), replacing an older one. */
  public void putService(Connection c, ServiceRecord s, CertificateRecord cert)
      throws SQLException {
    insertCertificate(c, cert);
    try (PreparedStatement del =
        c.prepareStatement("DELETE FROM ca.service_certificates WHERE name = ?")) {
      del.setString(1, s.name());
      del.executeUpdate();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO ca.service_certificates (name, issuer, serial, key_ref, sig_alg,"
                + " updated_at) VALUES (?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, s.name());
      ps.setString(2, s.issuer());
      ps.setString(3, s.serial());
      ps.setString(4, s.keyRef());
      ps.setString(5, s.signatureAlgorithm());
      ps.setObject(6, odt(Instant.now()));
      ps.executeUpdate();
    }
  }

  /**
   * Claims the renewal of a service certificate for this node: true for exactly one of several
   * nodes asking at once, as long as the service still has {@code serial} and no other claim is
   * younger than ten minutes. Times are the database's, so node clocks do not matter.
   */
  public boolean claimServiceRenewal(String name, String serial) {
    return inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE ca.service_certificates SET updated_at = CURRENT_TIMESTAMP"
                      + " WHERE name = ? AND serial = ?"
                      + " AND updated_at < CURRENT_TIMESTAMP - INTERVAL '10' MINUTE")) {
            ps.setString(1, name);
            ps.setString(2, serial);
            return ps.executeUpdate() == 1;
          }
        });
  }

  // ---- certificates

  /** Takes a block of 1000 partition slots; slot / partition size is a certificate's partition. */
  public long nextSlotBlock() {
    return inTransaction(
        c -> {
          String sql =
              postgres
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
        ps.setObject(6, odt(r.notBefore()));
        ps.setObject(7, odt(r.notAfter()));
        ps.setInt(8, r.partition());
        ps.setString(9, r.status().code());
        ps.setObject(10, odt(r.issuedAt()));
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

  /** Whether a certificate for this key was ever revoked (hold does not count). */
  public boolean keyWasRevoked(byte[] keySha256) {
    return inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT 1 FROM ca.certificates WHERE key_sha256 = ? AND status = 'R'")) {
            ps.setBytes(1, keySha256);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next();
            }
          }
        });
  }

  /** Calls {@code sink} with the key hash of every revoked certificate, streamed. */
  public void forEachRevokedKey(java.util.function.Consumer<byte[]> sink) {
    inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT key_sha256 FROM ca.certificates WHERE status = 'R'")) {
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

  /** The newest sequence number of {@code ca.status_changes}, 0 if there is none. */
  public long lastStatusChangeSeq() {
    return inTransaction(
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
      "SELECT s.seq, s.issuer, s.serial, s.status, c.key_sha256 FROM ca.status_changes s"
          + " JOIN ca.certificates c ON c.issuer = s.issuer AND c.serial = s.serial";

  /**
   * Status changes with a sequence number above {@code after}, oldest first, at most {@code limit}.
   */
  public List<io.yinxin.ca.revoke.StatusFeed.Change> statusChangesAfter(long after, int limit) {
    return inTransaction(
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
    return inTransaction(
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
                rs.getBytes(5)));
      }
    }
    return out;
  }

  /** Key hashes of the certificates revoked at or after {@code since} (on any node). */
  public List<byte[]> keysRevokedSince(Instant since) {
    return inTransaction(
        c -> {
          List<byte[]> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT c.key_sha256 FROM ca.status_changes s JOIN ca.certificates c"
                      + " ON c.issuer = s.issuer AND c.serial = s.serial"
                      + " WHERE s.changed_at >= ? AND s.status = 'R'")) {
            ps.setObject(1, odt(since));
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
          + " revoked_at, reason, issued_at, der";

  public Optional<CertificateRecord> certificate(String issuer, String serial) {
    return inTransaction(c -> certificate(c, issuer, serial, false));
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

  /**
   * A search over issued certificates, newest first.
   *
   * @param subjectContains substring of the subject DN, or empty
   */
  public List<CertificateRecord> search(
      Optional<String> issuer,
      Optional<String> profile,
      Optional<Status> status,
      Optional<String> subjectContains,
      int limit) {
    StringBuilder sql =
        new StringBuilder("SELECT " + CERT_COLUMNS + " FROM ca.certificates WHERE 1=1");
    List<Object> args = new ArrayList<>();
    issuer.ifPresent(
        v -> {
          sql.append(" AND issuer = ?");
          args.add(v);
        });
    profile.ifPresent(
        v -> {
          sql.append(" AND profile = ?");
          args.add(v);
        });
    status.ifPresent(
        v -> {
          sql.append(" AND status = ?");
          args.add(v.code());
        });
    subjectContains.ifPresent(
        v -> {
          sql.append(" AND subject LIKE ? ESCAPE '!'");
          args.add("%" + v.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%");
        });
    sql.append(" ORDER BY issued_at DESC, serial LIMIT ?");
    args.add(limit);
    return inTransaction(
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
      String issuer, String serial, Status to, int reason, Instant at, Evidence beforeCommit) {
    return inTransaction(
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
                  "UPDATE ca.certificates SET status = ?, revoked_at = ?, reason = ?"
                      + " WHERE issuer = ? AND serial = ?")) {
            ps.setString(1, to.code());
            ps.setObject(2, revokedAt == null ? null : odt(revokedAt));
            if (to == Status.VALID) {
              ps.setNull(3, java.sql.Types.SMALLINT);
            } else {
              ps.setShort(3, (short) reason);
            }
            ps.setString(4, issuer);
            ps.setString(5, serial);
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
                    "INSERT INTO ca.revoked (issuer, serial, crl_partition, revoked_at, reason)"
                        + " VALUES (?, ?, ?, ?, ?)")) {
              ins.setString(1, issuer);
              ins.setString(2, serial);
              ins.setInt(3, cur.partition());
              ins.setObject(4, odt(at));
              ins.setShort(5, (short) reason);
              ins.executeUpdate();
            }
          }
          try (PreparedStatement ch =
              c.prepareStatement(
                  "INSERT INTO ca.status_changes (issuer, serial, crl_partition, status, reason,"
                      + " changed_at) VALUES (?, ?, ?, ?, ?, ?)")) {
            ch.setString(1, issuer);
            ch.setString(2, serial);
            ch.setInt(3, cur.partition());
            ch.setString(4, to.code());
            if (to == Status.VALID) {
              ch.setNull(5, java.sql.Types.SMALLINT);
            } else {
              ch.setShort(5, (short) reason);
            }
            ch.setObject(6, odt(Instant.now()));
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
                  cur.der());
          beforeCommit.record(c, updated);
          return updated;
        });
  }

  // ---- revocation information

  /** One revoked certificate as a CRL lists it. */
  public record RevokedEntry(String serial, Instant revokedAt, int reason) {}

  /** Consumer of revoked entries, streamed without holding them all. */
  @FunctionalInterface
  public interface EntrySink {
    void accept(String serialHex, long revokedAtMillis, int reason);
  }

  /** Streams the revocation list of one CA partition; returns how many entries. */
  public int revoked(Connection c, String issuer, int partition, EntrySink sink)
      throws SQLException {
    int n = 0;
    try (PreparedStatement ps =
        c.prepareStatement(
            // Epoch milliseconds computed by the database: a million timestamp objects less.
            "SELECT serial, CAST(EXTRACT(EPOCH FROM revoked_at) * 1000 AS BIGINT), reason"
                + " FROM ca.revoked WHERE issuer = ? AND crl_partition = ?")) {
      ps.setFetchSize(10_000);
      ps.setString(1, issuer);
      ps.setInt(2, partition);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          sink.accept(rs.getString(1), rs.getLong(2), rs.getShort(3));
          n++;
        }
      }
    }
    return n;
  }

  /** A change of status, for delta CRLs and OCSP cache invalidation. */
  public record StatusChange(
      String issuer, String serial, int partition, Status status, int reason, Instant at) {}

  /** Changes at or after {@code since}, optionally for one CA partition, oldest first. */
  public List<StatusChange> changesSince(
      Connection c, Optional<String> issuer, Optional<Integer> partition, Instant since)
      throws SQLException {
    String sql =
        "SELECT issuer, serial, crl_partition, status, reason, changed_at FROM ca.status_changes"
            + " WHERE changed_at >= ?"
            + (issuer.isPresent() ? " AND issuer = ? AND crl_partition = ?" : "")
            + " ORDER BY seq";
    List<StatusChange> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, odt(since));
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
                  rs.getObject(6, OffsetDateTime.class).toInstant()));
        }
      }
    }
    return out;
  }

  public List<StatusChange> changesSince(Instant since) {
    return inTransaction(c -> changesSince(c, Optional.empty(), Optional.empty(), since));
  }

  /** The partitions that hold certificates of a CA. */
  public List<Integer> partitions(String issuer) {
    return list(
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
      ps.setObject(5, odt(r.thisUpdate()));
      ps.setObject(6, odt(r.nextUpdate()));
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

  /** The newest full ({@code delta=false}) or delta CRL of a partition. */
  public Optional<CrlRecord> latestCrl(String issuer, int partition, boolean delta) {
    return inTransaction(
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
        ins.setObject(4, odt(e.revokedAt()));
        ins.setShort(5, (short) e.reason());
        ins.addBatch();
      }
      ins.executeBatch();
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
        rs.getBytes(13));
  }

  static OffsetDateTime odt(Instant i) {
    return OffsetDateTime.ofInstant(i, ZoneOffset.UTC);
  }

  static CaException unavailable(SQLException e) {
    if ("23505".equals(e.getSQLState())) {
      // a unique key taken: the caller's row exists already (PostgreSQL and H2 share the state)
      return new CaException(CaException.Code.CONFLICT, "the row exists already", e);
    }
    return new CaException(CaException.Code.UNAVAILABLE, "CA database unavailable", e);
  }
}
