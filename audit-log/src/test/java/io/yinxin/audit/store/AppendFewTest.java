package io.yinxin.audit.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.merkle.Rfc9162;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A lone entry, and a few entries in one commit (PostgreSQL, {@link LogStore#appendInOneStatement}
 * with 2 to {@link LogStore#FEW} rows and no tile): all of them are written, in order, or — when
 * one of them cannot be — none, although each is its own call in autocommit: the calls travel in
 * one query string, which the server runs as one implicit transaction.
 */
class AppendFewTest {
  @Test
  void aFewEntriesAreWrittenTogetherOrNotAtAll() throws Exception {
    PostgresDatabase db = new PostgresDatabase();
    try (HikariDataSource ds = db.pool(3)) {
      LogStore store = LogStore.open(ds);
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(true);
        LogStore.Server here = store.lock(c).server();
        assertThat(store.appendInOneStatement(c, 0, here, rows(0, 3), List.of())).isTrue();
        assertThat(store.size(c)).isEqualTo(3);
        assertThat(leafHashes(c)).containsExactlyElementsOf(hashes(rows(0, 3)));
        assertThat(eventCount(c)).isEqualTo(3);

        // Where the tree is not the size the caller computed for, nothing is written.
        assertThat(store.appendInOneStatement(c, 2, here, rows(2, 2), List.of())).isFalse();
        assertThat(store.size(c)).isEqualTo(3);

        // The second of two entries collides with an index another writer holds (written, not
        // yet committed, then committed): the first, written by its own call in the same round
        // trip, is not kept either.
        try (Connection other = ds.getConnection()) {
          other.setAutoCommit(false);
          store.insert(other, rows(4, 1));
          java.util.concurrent.CompletableFuture<Boolean> two = appendAside(ds, store, here, 3, 2);
          Thread.sleep(300);
          assertThat(two).isNotDone(); // waiting on the uncommitted index 4
          other.commit();
          assertThat(two.get(10, java.util.concurrent.TimeUnit.SECONDS)).isFalse();
        }
        List<byte[]> withFour = new ArrayList<>(hashes(rows(0, 3)));
        withFour.addAll(hashes(rows(4, 1)));
        assertThat(leafHashes(c)).containsExactlyElementsOf(withFour); // no entry 3
        assertThat(eventCount(c)).isEqualTo(4);

        try (Statement s = c.createStatement()) {
          s.execute("DELETE FROM audit.events WHERE idx = 4");
        }
        List<LogStore.Row> eight = rows(3, LogStore.FEW);
        assertThat(store.appendInOneStatement(c, 3, here, eight, List.of())).isTrue();
        List<byte[]> expected = new ArrayList<>(hashes(rows(0, 3)));
        expected.addAll(hashes(eight));
        assertThat(leafHashes(c)).containsExactlyElementsOf(expected);
        assertThat(eventCount(c)).isEqualTo(3 + LogStore.FEW);
      }
    }
  }

  /**
   * A lone entry goes without the append lock, in one statement: the database must then refuse,
   * writing nothing, what the lock and the size check refused — its index taken, committed or not
   * (waiting for the writer that holds it) — and every write, of one entry or of several, with or
   * without tiles, on a server other than the one where the node saw its tree: another start time
   * (a restore, a promoted standby), another {@code audit.events} (a database dropped and restored
   * from a dump), or commits that are not durable ({@code synchronous_commit = off}).
   */
  @Test
  void entriesAreWrittenOnlyOnTheServerWhereTheTreeWasSeenAndNeverOverATakenIndex()
      throws Exception {
    PostgresDatabase db = new PostgresDatabase();
    try (HikariDataSource ds = db.pool(3)) {
      LogStore store = LogStore.open(ds);
      try (Connection c = ds.getConnection();
          Connection other = ds.getConnection()) {
        c.setAutoCommit(true);
        LogStore.Server here = store.lock(c).server();
        try (Statement s = c.createStatement();
            ResultSet rs =
                s.executeQuery(
                    "SELECT CAST(EXTRACT(EPOCH FROM pg_postmaster_start_time()) * 1000000 AS"
                        + " bigint), CAST(c.oid AS bigint) FROM pg_class c JOIN pg_namespace n ON"
                        + " n.oid = c.relnamespace WHERE n.nspname = 'audit' AND c.relname ="
                        + " 'events'")) {
          rs.next();
          assertThat(here).isEqualTo(new LogStore.Server(rs.getLong(1), rs.getLong(2)));
        }
        List<LogStore.Server> elsewhere =
            List.of(
                new LogStore.Server(here.startMicros() + 1, here.eventsOid()),
                new LogStore.Server(here.startMicros() - 1_000_000, here.eventsOid()),
                new LogStore.Server(here.startMicros(), here.eventsOid() + 1));
        byte[] tileHashes = new byte[32 * 256];
        for (LogStore.Server there : elsewhere) {
          assertThat(store.appendInOneStatement(c, 0, there, rows(0, 1), List.of())).isFalse();
          assertThat(store.appendInOneStatement(c, 0, there, rows(0, 3), List.of())).isFalse();
          assertThat(store.appendInOneStatement(c, 0, there, rows(0, 20), List.of())).isFalse();
          assertThat(
                  store.appendInOneStatement(
                      c, 0, there, rows(0, 1), List.<Object[]>of(new Object[] {0, 0L, tileHashes})))
              .isFalse();
        }
        try (Statement s = c.createStatement()) {
          s.execute("SET synchronous_commit = off");
          assertThat(store.appendInOneStatement(c, 0, here, rows(0, 1), List.of())).isFalse();
          assertThat(store.appendInOneStatement(c, 0, here, rows(0, 3), List.of())).isFalse();
          s.execute("RESET synchronous_commit");
        }
        assertThat(eventCount(c)).isZero();
        assertThat(tileCount(c)).isZero();

        assertThat(store.appendInOneStatement(c, 0, here, rows(0, 1), List.of())).isTrue();
        assertThat(store.appendInOneStatement(c, 0, here, rows(0, 1), List.of()))
            .isFalse(); // taken
        assertThat(store.size(c)).isEqualTo(1);
        assertThat(eventCount(c)).isEqualTo(1);

        // Another writer has written index 1 but not committed: index 1 waits for that
        // transaction and is refused once it commits.
        other.setAutoCommit(false);
        store.insert(other, rows(1, 1));
        java.util.concurrent.CompletableFuture<Boolean> second = appendAside(ds, store, here, 1, 1);
        Thread.sleep(300);
        assertThat(second).isNotDone(); // waiting on the uncommitted index 1
        other.commit();
        assertThat(second.get(10, java.util.concurrent.TimeUnit.SECONDS)).isFalse();
        assertThat(store.size(c)).isEqualTo(2);

        // The same while the other writer rolls back: the index is free again and is written.
        store.insert(other, rows(2, 1));
        java.util.concurrent.CompletableFuture<Boolean> third = appendAside(ds, store, here, 2, 1);
        Thread.sleep(300);
        assertThat(third).isNotDone();
        other.rollback();
        assertThat(third.get(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(store.size(c)).isEqualTo(3);
        assertThat(leafHashes(c)).containsExactlyElementsOf(hashes(rows(0, 3)));
        assertThat(eventCount(c)).isEqualTo(3);
      }
    }
  }

  /**
   * The one-statement appends send an event's time as days and microseconds (LogStore.TIME), not as
   * a timestamp: each statement — the first entry, a lone entry, a few in one round trip — must
   * store exactly the instant the locked path stores from its text, judged by the server's own
   * {@code EXTRACT(EPOCH ...)}, for times before 1970 (negative days), far beyond 2255 (where
   * microseconds since 1970 no longer fit a double exactly) and in a session whose time zone has
   * daylight saving time (a day-based interval would move by an hour); rounded to the microsecond
   * as the driver rounds a time it sends as text.
   */
  @Test
  void everyOneStatementAppendStoresTheEventTimeExactly() throws Exception {
    List<Instant> times =
        List.of(
            Instant.parse("1969-12-31T23:59:59.999Z"),
            Instant.parse("1970-01-01T00:00:00Z"),
            Instant.parse("1900-02-28T12:34:56.789Z"),
            Instant.parse("-4000-01-01T00:00:00.001Z"),
            Instant.parse("2026-03-08T07:30:00.123456Z"),
            Instant.parse("2026-12-05T17:40:00.1234567Z"),
            Instant.parse("9999-12-31T23:59:59.999Z"),
            Instant.parse("+200000-06-15T01:02:03.004Z"));
    PostgresDatabase db = new PostgresDatabase();
    try (HikariDataSource ds = db.pool(2)) {
      LogStore store = LogStore.open(ds);
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
          s.execute("SET TIME ZONE 'America/New_York'");
        }
        LogStore.Server here = store.lock(c).server();
        List<LogStore.Row> all = new ArrayList<>();
        for (int i = 0; i < times.size(); i++) {
          all.add(at(rows(i, 1).get(0), times.get(i)));
        }
        assertThat(store.appendInOneStatement(c, 0, here, all.subList(0, 1), List.of())).isTrue();
        assertThat(store.appendInOneStatement(c, 1, here, all.subList(1, 2), List.of())).isTrue();
        assertThat(store.appendInOneStatement(c, 2, here, all.subList(2, 5), List.of())).isTrue();
        for (int i = 5; i < all.size(); i++) {
          assertThat(store.appendInOneStatement(c, i, here, all.subList(i, i + 1), List.of()))
              .isTrue();
        }
        // The same times through the locked path (text arrays), into a second database.
        PostgresDatabase other = new PostgresDatabase();
        try (HikariDataSource ods = other.pool(4)) {
          LogStore locked = LogStore.open(ods);
          try (Connection o = ods.getConnection()) {
            locked.insert(o, all);
            assertThat(epochs(o)).isEqualTo(epochs(c));
          }
        }
        List<java.math.BigDecimal> expected = new ArrayList<>();
        for (Instant t : times) {
          expected.add(
              java.math.BigDecimal.valueOf(t.getEpochSecond())
                  .add(java.math.BigDecimal.valueOf(t.getNano(), 9))
                  .setScale(6, java.math.RoundingMode.HALF_UP));
        }
        assertThat(epochs(c)).isEqualTo(expected);
      }
    }
  }

  private static LogStore.Row at(LogStore.Row r, Instant time) {
    return new LogStore.Row(
        r.index(),
        r.leaf(),
        r.leafHash(),
        r.type(),
        r.actor(),
        r.subject(),
        time,
        r.event(),
        r.salt(),
        r.outboxId());
  }

  /** Each entry's time as the server reads it: seconds since 1970, to the microsecond. */
  private static List<java.math.BigDecimal> epochs(Connection c) throws Exception {
    List<java.math.BigDecimal> out = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT EXTRACT(EPOCH FROM event_time) FROM audit.events ORDER BY idx")) {
      while (rs.next()) {
        out.add(rs.getBigDecimal(1).setScale(6));
      }
    }
    return out;
  }

  /** An append of {@code n} entries from {@code index} on another connection, in another thread. */
  private static java.util.concurrent.CompletableFuture<Boolean> appendAside(
      HikariDataSource ds, LogStore store, LogStore.Server here, long index, int n) {
    return java.util.concurrent.CompletableFuture.supplyAsync(
        () -> {
          try (Connection d = ds.getConnection()) {
            d.setAutoCommit(true);
            return store.appendInOneStatement(d, index, here, rows(index, n), List.of());
          } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  private static List<LogStore.Row> rows(long from, int n) {
    List<LogStore.Row> rows = new ArrayList<>();
    for (long i = from; i < from + n; i++) {
      byte[] leaf = ("leaf " + i).getBytes(StandardCharsets.UTF_8);
      rows.add(
          new LogStore.Row(
              i,
              leaf,
              Rfc9162.leafHash(leaf),
              "KEY_USED",
              "actor",
              "subject-" + i,
              Instant.parse("2026-12-04T08:00:00Z").plusSeconds(i),
              "{\"i\":" + i + "}",
              new byte[16],
              0));
    }
    return rows;
  }

  private static List<byte[]> hashes(List<LogStore.Row> rows) {
    return rows.stream().map(LogStore.Row::leafHash).toList();
  }

  private static List<byte[]> leafHashes(Connection c) throws Exception {
    List<byte[]> out = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT leaf_hash FROM audit.entries ORDER BY idx")) {
      while (rs.next()) {
        out.add(rs.getBytes(1));
      }
    }
    return out;
  }

  private static long eventCount(Connection c) throws Exception {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM audit.events")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long tileCount(Connection c) throws Exception {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM audit.tiles")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
