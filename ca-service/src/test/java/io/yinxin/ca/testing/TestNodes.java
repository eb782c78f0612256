package io.yinxin.ca.testing;

import io.yinxin.audit.store.PostgresDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/** What a CA node under test needs: a fresh database, a data directory, free ports. */
public final class TestNodes {
  private TestNodes() {}

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

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
