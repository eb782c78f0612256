package io.yinxin.ca.store;

import io.yinxin.ca.CaException;
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
import javax.sql.DataSource;

/**
 * Schema {@code ca} on PostgreSQL or H2: migrations, transactions, and one store per capability —
 * {@link #authorities()}, {@link #certificates()}, {@link #statusChanges()}, {@link #crls()}.
 */
public final class CaStore {
  private final DataSource dataSource;
  private final boolean postgres;
  private final AuthorityStore authorities = new AuthorityStore(this);
  private final CertificateStore certificates = new CertificateStore(this);
  private final StatusChangeStore statusChanges = new StatusChangeStore(this);
  private final CrlStore crls = new CrlStore(this);

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
    return transaction(work, true);
  }

  /**
   * Runs {@code work} in a transaction like {@link #inTransaction}, but on H2 returns without
   * forcing the commit to the file: for state whose loss in a crash only forgets a little (rate
   * limit buckets), where a file sync per request would cost more than the state is worth.
   */
  public <T> T inTransactionUnsynced(Tx<T> work) {
    return transaction(work, false);
  }

  private <T> T transaction(Tx<T> work, boolean synced) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        if (synced && !postgres) {
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

  /** CAs and service certificates. */
  public AuthorityStore authorities() {
    return authorities;
  }

  /** Issued certificates and their status. */
  public CertificateStore certificates() {
    return certificates;
  }

  /** The status-change feed. */
  public StatusChangeStore statusChanges() {
    return statusChanges;
  }

  /** CRLs and revoked entries. */
  public CrlStore crls() {
    return crls;
  }

  boolean postgres() {
    return postgres;
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
