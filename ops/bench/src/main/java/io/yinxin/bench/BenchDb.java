package io.yinxin.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.UUID;

/** Benchmark databases on the local PostgreSQL (YINXIN_BENCH_PG, YINXIN_BENCH_PG_USER). */
final class BenchDb {
  static final String SERVER =
      System.getenv().getOrDefault("YINXIN_BENCH_PG", "jdbc:postgresql://127.0.0.1:5432/");
  static final String USER = System.getenv().getOrDefault("YINXIN_BENCH_PG_USER", "postgres");

  private BenchDb() {}

  /** A new database named yinxin_bench_*; the run scripts drop earlier ones. */
  static String create() throws Exception {
    String name = "yinxin_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    try (Connection c = DriverManager.getConnection(SERVER + "postgres", USER, "");
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    return name;
  }

  static String url(String db) {
    return SERVER + db + "?reWriteBatchedInserts=true";
  }

  static HikariDataSource pool(String db, int size) {
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(url(db));
    cfg.setUsername(USER);
    cfg.setMaximumPoolSize(size);
    return new HikariDataSource(cfg);
  }
}
