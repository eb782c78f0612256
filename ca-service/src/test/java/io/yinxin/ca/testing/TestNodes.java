package io.yinxin.ca.testing;

import io.yinxin.audit.store.PostgresDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What a CA node under test needs: a fresh database, a data directory, an OCSP responder. */
public final class TestNodes {
  private TestNodes() {}

  /**
   * An OCSP responder as a node makes one (answers valid 24 h, re-signed 8 h ahead, 1,000 cached),
   * without limits on answers signed on request.
   */
  public static io.yinxin.ca.ocsp.OcspResponder ocspResponder(
      io.yinxin.ca.hierarchy.Hierarchy hierarchy,
      io.yinxin.ca.store.CaStore store,
      io.yinxin.hsm.KeyService keys,
      io.yinxin.audit.AuditLog audit) {
    return new io.yinxin.ca.ocsp.OcspResponder(
        hierarchy,
        store,
        keys,
        audit,
        java.time.Duration.ofHours(24),
        java.time.Duration.ofHours(8),
        1000,
        io.yinxin.audit.access.AddressLimits.NONE);
  }

  /**
   * A valid, unrevoked certificate row issued now for a day, with a placeholder DER: for tests of
   * storage and revocation that need a row, not a certificate.
   */
  public static io.yinxin.ca.store.CertificateRecord certificateRow(
      String issuer, String serial, byte[] keySha256) {
    java.time.Instant now =
        java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    return new io.yinxin.ca.store.CertificateRecord(
        issuer,
        serial,
        "citizen-sign",
        "CN=test",
        keySha256,
        now,
        now.plus(1, java.time.temporal.ChronoUnit.DAYS),
        0,
        io.yinxin.ca.store.CertificateRecord.Status.VALID,
        java.util.Optional.empty(),
        java.util.Optional.empty(),
        now,
        new byte[] {0x30, 0x00});
  }

  public static PostgresDatabase database() {
    try {
      return new PostgresDatabase();
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(
          "PostgreSQL must run on 127.0.0.1:5432 (ops/bin/test starts it)", e);
    }
  }

  /** A plain data source on a test database. */
  public static javax.sql.DataSource dataSource(PostgresDatabase db) {
    org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
    ds.setUrl(db.url());
    ds.setUser(PostgresDatabase.USER);
    return ds;
  }

  public static Path dataDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
