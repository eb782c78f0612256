package io.yinxin.audit.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A fresh PostgreSQL database for one test class on the local server (127.0.0.1:5432, trust
 * authentication, as ops/bin/test ensures). Databases stay until a later test run drops them:
 * dropping them at the end would pull them from under Spring's still-open connection pool. A
 * database's name carries the process that made it and when; a run drops only those whose process
 * is gone or that are more than a day old, so two runs at once (a developer's tests while CI runs
 * on the same server) leave each other's databases alone. Override the server with
 * YINXIN_TEST_PG_URL (a JDBC URL without database name) and YINXIN_TEST_PG_USER.
 */
public final class PostgresDatabase implements AutoCloseable {
  private static final String SERVER =
      System.getenv().getOrDefault("YINXIN_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/");
  public static final String USER = System.getenv().getOrDefault("YINXIN_TEST_PG_USER", "postgres");

  private static final String RUN =
      ProcessHandle.current().pid()
          + "_"
          + java.time.Instant.now().getEpochSecond()
          + "_"
          + UUID.randomUUID().toString().replace("-", "").substring(0, 6);

  /** {@code yinxin_test_<pid>_<epoch second>_<random>_<n>}. */
  private static final java.util.regex.Pattern NAME =
      java.util.regex.Pattern.compile("yinxin_test_(\\d+)_(\\d+)_[0-9a-f]{6}_\\d+");

  private static final java.util.concurrent.atomic.AtomicInteger COUNT =
      new java.util.concurrent.atomic.AtomicInteger();
  private static boolean cleaned;

  private final String name = "yinxin_test_" + RUN + "_" + COUNT.incrementAndGet();

  public PostgresDatabase() throws SQLException {
    try (Connection c = DriverManager.getConnection(SERVER + "postgres", USER, "");
        Statement s = c.createStatement()) {
      dropEarlierRuns(c);
      s.execute("CREATE DATABASE " + name);
    }
  }

  private static synchronized void dropEarlierRuns(Connection c) throws SQLException {
    if (cleaned) {
      return;
    }
    cleaned = true;
    java.util.List<String> old = new java.util.ArrayList<>();
    try (Statement s = c.createStatement();
        java.sql.ResultSet rs =
            s.executeQuery(
                "SELECT datname FROM pg_database WHERE datname LIKE 'yinxin\\_test\\_%'")) {
      while (rs.next()) {
        if (!rs.getString(1).contains(RUN) && abandoned(rs.getString(1))) {
          old.add(rs.getString(1));
        }
      }
    }
    for (String db : old) {
      try (Statement s = c.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      }
    }
  }

  /**
   * Whether no live run can be using {@code db}: its process has ended, it is over a day old, or
   * its name predates this scheme.
   */
  static boolean abandoned(String db) {
    java.util.regex.Matcher m = NAME.matcher(db);
    if (!m.matches()) {
      return true;
    }
    long pid = Long.parseLong(m.group(1));
    long made = Long.parseLong(m.group(2));
    boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    return !alive || java.time.Instant.now().getEpochSecond() - made > 86_400;
  }

  public String url() {
    return SERVER + name;
  }

  /** A pool of at most {@code size} connections to this database. */
  public com.zaxxer.hikari.HikariDataSource pool(int size) {
    com.zaxxer.hikari.HikariDataSource ds = new com.zaxxer.hikari.HikariDataSource();
    ds.setJdbcUrl(url());
    ds.setUsername(USER);
    ds.setMaximumPoolSize(size);
    return ds;
  }

  /** Nothing to do now: the next run drops this database (see the class comment). */
  @Override
  public void close() {}
}
