package io.yinxin.audit.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.merkle.Rfc9162;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * One row per entry (migration V12): an append writes only its row of {@code audit.events}; the
 * query index ({@code audit.event_keys}) is filled after the acknowledgement by {@link
 * LogStore#indexEvents}, and a query reads the indexed part there and the rest from the log. The
 * answers are checked against a filter written here over all rows, at every stage of indexing.
 */
class EventIndexTest {
  private static final Instant T0 = Instant.parse("2026-12-05T08:00:00Z");
  private static final int N = 300;

  @ParameterizedTest
  @ValueSource(strings = {"h2", "postgresql"})
  void queriesFindTheSameEventsWhateverHasBeenIndexed(String database) throws Exception {
    LogStore store = LogStore.open(dataSource(database));
    try (Connection c = store.connection()) {
      c.setAutoCommit(false);
      store.insert(c, rows(0, N));
      c.commit();
    }
    assertThat(store.unindexed()).isEqualTo(N);

    List<List<Long>> before = answers(store);
    assertThat(before.get(0)).hasSize(N / 3); // subject s1: every third entry
    for (int indexed : new int[] {0, 1, 100, 101, 257, N}) {
      store.indexEvents(Math.max(0, indexed - (N - (int) store.unindexed())));
      assertThat(N - store.unindexed()).isEqualTo(indexed);
      assertThat(answers(store)).as("indexed up to %d", indexed).isEqualTo(before);
    }
    assertThat(store.indexEvents(1000)).isZero(); // nothing left to index
    // The index holds each row's own type, subject and time.
    try (Connection c = store.connection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM audit.event_keys k JOIN audit.events v ON v.idx = k.idx"
                    + " WHERE k.type = v.type AND k.subject = v.subject"
                    + " AND k.event_time = v.event_time")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(N);
    }
  }

  /**
   * The gauge {@code yinxin_audit_index_lag_entries} says how far the query index is behind the log
   * (what the checkpoint job has yet to index), from the database, as every node reports it.
   */
  @Test
  void theIndexLagIsAGauge() throws Exception {
    LogStore store = LogStore.open(dataSource("h2"));
    try (Connection c = store.connection()) {
      c.setAutoCommit(false);
      store.insert(c, rows(0, 25));
      c.commit();
    }
    io.yinxin.hsm.KeyServices keys =
        io.yinxin.hsm.KeyServices.of(
            io.yinxin.hsm.soft.SoftKeyBackend.open(
                Files.createTempDirectory("yinxin-index-keys-")));
    keys.generate(io.yinxin.hsm.KeyRef.Scheme.SOFT, io.yinxin.hsm.KeySpec.ED25519, "cp");
    CheckpointPublisher publisher =
        new CheckpointPublisher(
            store,
            new TileCache(store, 64),
            keys,
            io.yinxin.hsm.KeyRef.soft("cp"),
            "yinxin.test/index");
    assertThat(indexLag(store, publisher)).isEqualTo(25.0);
    store.indexEvents(10);
    assertThat(indexLag(store, publisher)).isEqualTo(15.0);
    store.indexEvents(100);
    assertThat(indexLag(store, publisher)).isZero();
  }

  /**
   * However far behind the index is, one call catches it up, a statement of {@code batch} entries
   * at a time; with no time left it still does one statement, and no more.
   */
  @ParameterizedTest
  @ValueSource(strings = {"h2", "postgresql"})
  void theIndexCatchesUpWhateverTheBacklog(String database) throws Exception {
    LogStore store = LogStore.open(dataSource(database));
    try (Connection c = store.connection()) {
      c.setAutoCommit(false);
      store.insert(c, rows(0, 1000));
      c.commit();
    }
    assertThat(store.indexCaughtUp(64, 0)).isEqualTo(64);
    assertThat(store.unindexed()).isEqualTo(936);
    assertThat(store.indexCaughtUp(64, java.util.concurrent.TimeUnit.MINUTES.toNanos(1)))
        .isEqualTo(936);
    assertThat(store.unindexed()).isZero();
    assertThat(store.indexCaughtUp(64, java.util.concurrent.TimeUnit.MINUTES.toNanos(1))).isZero();
  }

  /** The gauge's value from a fresh registry (the metrics read the database once a second). */
  private static double indexLag(LogStore store, CheckpointPublisher publisher) {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    new io.yinxin.audit.spring.AuditLogMetrics(store, () -> 0, publisher).bindTo(registry);
    return registry.get("yinxin.audit.index.lag").gauge().value();
  }

  /** The same questions an evidence bundle asks, answered by the store. */
  private static List<List<Long>> answers(LogStore store) throws Exception {
    List<List<Long>> out = new ArrayList<>();
    try (Connection c = store.connection()) {
      out.add(ids(store.events(c, Optional.of("s1"), Optional.empty(), none(), none(), N, 1000)));
      out.add(ids(store.events(c, Optional.of("s2"), Optional.empty(), none(), none(), N, 7)));
      out.add(
          ids(
              store.events(
                  c, Optional.empty(), Optional.of("CERT_ISSUED"), none(), none(), N, 1000)));
      Optional<Instant> from = Optional.of(T0.plusSeconds(90));
      Optional<Instant> to = Optional.of(T0.plusSeconds(200));
      out.add(ids(store.events(c, Optional.of("s0"), Optional.of("KEY_USED"), from, to, N, 1000)));
      out.add(ids(store.events(c, Optional.of("s1"), Optional.empty(), none(), none(), 150, 1000)));
      out.add(ids(store.events(c, Optional.of("nobody"), Optional.empty(), none(), none(), N, 10)));
    }
    // Each checked against a plain filter over the rows appended.
    assertThat(out.get(0)).isEqualTo(expected(i -> i % 3 == 1, N, 1000));
    assertThat(out.get(1)).isEqualTo(expected(i -> i % 3 == 2, N, 7));
    assertThat(out.get(2)).isEqualTo(expected(i -> i % 2 == 1, N, 1000));
    assertThat(out.get(3))
        .isEqualTo(expected(i -> i % 3 == 0 && i % 2 == 0 && i >= 90 && i < 200, N, 1000));
    assertThat(out.get(4)).isEqualTo(expected(i -> i % 3 == 1, 150, 1000));
    assertThat(out.get(5)).isEmpty();
    return out;
  }

  private static Optional<Instant> none() {
    return Optional.empty();
  }

  private static List<Long> expected(java.util.function.LongPredicate p, long max, int limit) {
    List<Long> out = new ArrayList<>();
    for (long i = 0; i < max && out.size() < limit; i++) {
      if (p.test(i)) {
        out.add(i);
      }
    }
    return out;
  }

  private static List<Long> ids(List<LogStore.StoredEvent> events) {
    for (LogStore.StoredEvent e : events) {
      assertThat(e.event()).isEqualTo(event(e.index()));
      assertThat(e.leaf()).isEqualTo(leaf(e.index()));
    }
    return events.stream().map(LogStore.StoredEvent::index).toList();
  }

  /**
   * Two nodes indexing at once (PostgreSQL, several nodes on one database): each inserts the rows
   * after what it sees indexed, and the one that comes second skips what the first holds, so the
   * index stays the whole log's first rows, without a gap or a row twice.
   */
  @Test
  void twoIndexersAtOnceLeaveNoGap() throws Exception {
    LogStore store = LogStore.open(dataSource("postgresql"));
    int n = 5000;
    try (Connection c = store.connection()) {
      c.setAutoCommit(false);
      store.insert(c, rows(0, n));
      c.commit();
    }
    List<CompletableFuture<Void>> indexers = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      indexers.add(
          CompletableFuture.runAsync(
              () -> {
                while (store.unindexed() > 0) {
                  store.indexEvents(337);
                }
              }));
    }
    for (CompletableFuture<Void> f : indexers) {
      f.get(60, TimeUnit.SECONDS);
    }
    try (Connection c = store.connection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT count(*), min(idx), max(idx) FROM audit.event_keys")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(n);
      assertThat(rs.getLong(2)).isZero();
      assertThat(rs.getLong(3)).isEqualTo(n - 1);
    }
  }

  /**
   * A log written before V12 (entries and events in two tables) keeps every entry through the
   * migration: the same leaves and hashes at the same indices, the same events, all indexed, and
   * the next append goes right after them.
   */
  @ParameterizedTest
  @ValueSource(strings = {"h2", "postgresql"})
  void aLogWrittenInTwoTablesKeepsItsEntries(String database) throws Exception {
    DataSource ds = dataSource(database);
    org.flywaydb.core.Flyway.configure()
        .dataSource(ds)
        .schemas("audit")
        .createSchemas(true)
        .locations("classpath:db/audit", "classpath:db/audit-" + database)
        .table("flyway_history")
        .target("11")
        .load()
        .migrate();
    int n = 40;
    try (Connection c = ds.getConnection();
        PreparedStatement e =
            c.prepareStatement(
                "INSERT INTO audit.entries (idx, leaf, leaf_hash) VALUES (?, ?, ?)");
        PreparedStatement v =
            c.prepareStatement(
                "INSERT INTO audit.events (idx, type, actor, subject, event_time, event, salt)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      for (LogStore.Row r : rows(0, n)) {
        e.setLong(1, r.index());
        e.setBytes(2, r.leaf());
        e.setBytes(3, r.leafHash());
        e.executeUpdate();
        v.setLong(1, r.index());
        v.setString(2, r.type());
        v.setString(3, r.actor());
        v.setString(4, r.subject());
        v.setTimestamp(5, java.sql.Timestamp.from(r.time()));
        v.setString(6, r.event());
        v.setBytes(7, r.salt());
        v.executeUpdate();
      }
    }

    LogStore store = LogStore.open(ds); // migrates to the one-row layout
    try (Connection c = store.connection()) {
      assertThat(store.size(c)).isEqualTo(n);
      List<byte[]> leaves = store.leaves(c, 0, n);
      for (int i = 0; i < n; i++) {
        assertThat(leaves.get(i)).isEqualTo(leaf(i));
      }
      byte[] hashes = store.leafHashes(c, 0, n);
      for (int i = 0; i < n; i++) {
        assertThat(java.util.Arrays.copyOfRange(hashes, i * 32, i * 32 + 32))
            .isEqualTo(Rfc9162.leafHash(leaf(i)));
      }
      assertThat(ids(store.eventsBetween(c, 0, n))).hasSize(n);
      assertThat(store.unindexed()).isZero();
      assertThat(ids(store.events(c, Optional.of("s1"), Optional.empty(), none(), none(), n, 100)))
          .isEqualTo(expected(i -> i % 3 == 1, n, 100));
      c.setAutoCommit(false);
      store.insert(c, rows(n, 1));
      c.commit();
      assertThat(store.size(c)).isEqualTo(n + 1);
    }
  }

  private static DataSource dataSource(String database) throws Exception {
    if (database.equals("postgresql")) {
      PostgresDatabase db = new PostgresDatabase();
      PGSimpleDataSource ds = new PGSimpleDataSource();
      ds.setUrl(db.url());
      ds.setUser(PostgresDatabase.USER);
      return ds;
    }
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL(
        "jdbc:h2:file:"
            + Files.createTempDirectory("yinxin-h2-index-").resolve("db")
            + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH");
    return ds;
  }

  private static byte[] leaf(long i) {
    return ("leaf " + i).getBytes(StandardCharsets.UTF_8);
  }

  private static String event(long i) {
    return "{\"i\":" + i + "}";
  }

  /** Subjects s0, s1, s2 in turn; types KEY_USED and CERT_ISSUED in turn; a second apart. */
  private static List<LogStore.Row> rows(long from, int n) {
    List<LogStore.Row> rows = new ArrayList<>();
    for (long i = from; i < from + n; i++) {
      rows.add(
          new LogStore.Row(
              i,
              leaf(i),
              Rfc9162.leafHash(leaf(i)),
              i % 2 == 0 ? "KEY_USED" : "CERT_ISSUED",
              "actor",
              "s" + (i % 3),
              T0.plusSeconds(i),
              event(i),
              new byte[16],
              0));
    }
    return rows;
  }
}
