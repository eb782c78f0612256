package io.yinxin.audit.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.EventType;
import io.yinxin.audit.Receipt;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Concurrent appenders share commits. When the database refuses one entry's row for what it holds
 * (here a CHECK constraint the test adds: a stand-in for any row-level refusal the event's own
 * checks did not foresee), only that appender fails: the others sharing its commit get their
 * receipts, the tree stays gapless and each receipt's index holds its leaf.
 */
class RefusedRowTest {
  private static final int THREADS = 16;
  private static final int EACH = 60;

  @ParameterizedTest
  @ValueSource(strings = {"h2", "postgresql"})
  void aRowTheDatabaseRefusesFailsOnlyItsOwnAppender(String database) throws Exception {
    try (HikariDataSource ds = pool(database)) {
      LogStore store = refusingPoison(ds);
      List<Future<Receipt>> good = new ArrayList<>();
      List<Future<Receipt>> poison = new ArrayList<>();
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      try (Integrator in = new Integrator(store, 2000, 100_000)) {
        for (int i = 0; i < THREADS * EACH; i++) {
          boolean bad = i % 7 == 3;
          AuditEvent e =
              AuditEvent.of(EventType.KEY_USED, "t", bad ? "poison" : "s" + i, Map.of("i", "" + i));
          (bad ? poison : good).add(pool.submit(() -> in.append(e)));
        }
        pool.shutdown();
        assertThat(pool.awaitTermination(120, TimeUnit.SECONDS)).isTrue();
        for (Future<Receipt> f : poison) {
          assertThat(f)
              .failsWithin(java.time.Duration.ZERO)
              .withThrowableOfType(java.util.concurrent.ExecutionException.class)
              .withCauseInstanceOf(AuditException.class);
        }
        for (Future<Receipt> f : good) {
          assertThat(f).isDone().isNotCancelled();
          assertThat(f.get()).isNotNull(); // throws if this appender failed
        }
        // The path under test was taken: some commits were shared with a refused row and split.
        assertThat(in.isolated()).isPositive();
      }
      try (Connection c = ds.getConnection();
          Statement s = c.createStatement()) {
        assertThat(store.size(c)).isEqualTo(good.size());
        try (ResultSet rs =
            s.executeQuery("SELECT count(*), min(idx), max(idx) FROM audit.entries")) {
          rs.next();
          assertThat(rs.getLong(1)).isEqualTo(good.size());
          assertThat(rs.getLong(2)).isZero();
          assertThat(rs.getLong(3)).isEqualTo(good.size() - 1);
        }
        for (Future<Receipt> f : good) {
          Receipt r = f.get();
          try (ResultSet rs =
              s.executeQuery("SELECT leaf_hash FROM audit.entries WHERE idx = " + r.index())) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBytes(1)).isEqualTo(r.leafHash());
          }
        }
      }
    }
  }

  /**
   * A change committed with its event in the outbox, whose row the database then refuses: it is not
   * dropped (it stays in the outbox, retried every round), each failed round is counted in {@code
   * yinxin_audit_appends_total{result="failed"}} (what YinxinAuditAppendsFailing watches), and
   * appenders whose commit it shares are written without it.
   */
  @ParameterizedTest
  @ValueSource(strings = {"h2", "postgresql"})
  void aRefusedOutboxRowIsCountedKeptAndHoldsNoAppenderBack(String database) throws Exception {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    io.micrometer.core.instrument.Metrics.addRegistry(meters);
    try (HikariDataSource ds = pool(database)) {
      LogStore store = refusingPoison(ds);
      List<Future<Receipt>> good = new ArrayList<>();
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      try (Integrator in = new Integrator(store, 2000, 100_000)) {
        try (Connection c = ds.getConnection()) {
          c.setAutoCommit(false);
          in.record(c, AuditEvent.of(EventType.KEY_USED, "t", "poison", Map.of()));
          c.commit();
        }
        double before = failed(meters);
        for (int i = 0; i < THREADS * EACH; i++) {
          AuditEvent e = AuditEvent.of(EventType.KEY_USED, "t", "s" + i, Map.of("i", "" + i));
          good.add(pool.submit(() -> in.append(e)));
        }
        pool.shutdown();
        assertThat(pool.awaitTermination(120, TimeUnit.SECONDS)).isTrue();
        for (Future<Receipt> f : good) {
          assertThat(f.get()).isNotNull(); // throws if this appender failed
        }
        org.awaitility.Awaitility.await()
            .atMost(java.time.Duration.ofSeconds(20))
            .until(() -> failed(meters) >= before + 2); // at least two rounds, each counted
      }
      try (Connection c = ds.getConnection();
          Statement s = c.createStatement()) {
        assertThat(store.size(c)).isEqualTo(good.size());
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM audit.outbox")) {
          rs.next();
          assertThat(rs.getLong(1)).isEqualTo(1); // still there, not dropped
        }
      }
    } finally {
      io.micrometer.core.instrument.Metrics.removeRegistry(meters);
    }
  }

  private static double failed(io.micrometer.core.instrument.MeterRegistry meters) {
    io.micrometer.core.instrument.Counter c =
        meters.find("yinxin.audit.appends").tag("result", "failed").counter();
    return c == null ? 0 : c.count();
  }

  /** The log, with a constraint refusing any entry whose subject is "poison". */
  private static LogStore refusingPoison(HikariDataSource ds) throws Exception {
    LogStore store = LogStore.open(ds);
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "ALTER TABLE audit.events ADD CONSTRAINT refuse_poison CHECK (subject <> 'poison')");
    }
    return store;
  }

  private static HikariDataSource pool(String database) throws Exception {
    if (database.equals("postgresql")) {
      return new PostgresDatabase().pool(THREADS + 4);
    }
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(
        "jdbc:h2:file:"
            + Files.createTempDirectory("yinxin-h2-refused-").resolve("db")
            + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH");
    cfg.setMaximumPoolSize(THREADS + 4);
    return new HikariDataSource(cfg);
  }
}
