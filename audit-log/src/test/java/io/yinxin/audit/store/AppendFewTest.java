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
        assertThat(store.appendInOneStatement(c, 0, rows(0, 3), List.of())).isTrue();
        assertThat(store.size(c)).isEqualTo(3);
        assertThat(leafHashes(c)).containsExactlyElementsOf(hashes(rows(0, 3)));
        assertThat(eventCount(c)).isEqualTo(3);

        // Where the tree is not the size the caller computed for, nothing is written.
        assertThat(store.appendInOneStatement(c, 2, rows(2, 2), List.of())).isFalse();
        assertThat(store.size(c)).isEqualTo(3);

        // The second of two entries collides with an index another writer holds (written, not
        // yet committed, then committed): the first, written by its own call in the same round
        // trip, is not kept either.
        try (Connection other = ds.getConnection()) {
          other.setAutoCommit(false);
          store.insert(other, rows(4, 1));
          java.util.concurrent.CompletableFuture<Boolean> two = appendAside(ds, store, 3, 2);
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
        assertThat(store.appendInOneStatement(c, 3, eight, List.of())).isTrue();
        List<byte[]> expected = new ArrayList<>(hashes(rows(0, 3)));
        expected.addAll(hashes(eight));
        assertThat(leafHashes(c)).containsExactlyElementsOf(expected);
        assertThat(eventCount(c)).isEqualTo(3 + LogStore.FEW);
      }
    }
  }

  /**
   * A lone entry goes without the append lock, in one statement: the database's constraints must
   * then refuse, writing nothing, every case the lock and the size check refused — the entry before
   * it missing (a gap), or only written by a transaction that has not committed; its index taken,
   * committed or not; its private event's row taken.
   */
  @Test
  void aLoneEntryIsWrittenOnlyRightAfterACommittedPredecessor() throws Exception {
    PostgresDatabase db = new PostgresDatabase();
    try (HikariDataSource ds = db.pool(3)) {
      LogStore store = LogStore.open(ds);
      try (Connection c = ds.getConnection();
          Connection other = ds.getConnection()) {
        c.setAutoCommit(true);
        assertThat(store.appendInOneStatement(c, 1, rows(1, 1), List.of())).isFalse(); // gap
        assertThat(eventCount(c)).isZero();
        assertThat(store.appendInOneStatement(c, 0, rows(0, 1), List.of())).isTrue();
        assertThat(store.appendInOneStatement(c, 0, rows(0, 1), List.of())).isFalse(); // taken
        assertThat(store.appendInOneStatement(c, 2, rows(2, 1), List.of())).isFalse(); // gap
        assertThat(store.size(c)).isEqualTo(1);
        assertThat(eventCount(c)).isEqualTo(1);

        // Another writer has written index 1 but not committed: index 2 must not follow it, and
        // index 1 waits for that transaction and is refused once it commits.
        other.setAutoCommit(false);
        store.insert(other, rows(1, 1));
        assertThat(store.appendInOneStatement(c, 2, rows(2, 1), List.of())).isFalse();
        java.util.concurrent.CompletableFuture<Boolean> second = appendAside(ds, store, 1, 1);
        Thread.sleep(300);
        assertThat(second).isNotDone(); // waiting on the uncommitted index 1
        other.commit();
        assertThat(second.get(10, java.util.concurrent.TimeUnit.SECONDS)).isFalse();
        assertThat(store.size(c)).isEqualTo(2);

        // The same while the other writer rolls back: the index is free again and is written.
        store.insert(other, rows(2, 1));
        java.util.concurrent.CompletableFuture<Boolean> third = appendAside(ds, store, 2, 1);
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

  /** An append of {@code n} entries from {@code index} on another connection, in another thread. */
  private static java.util.concurrent.CompletableFuture<Boolean> appendAside(
      HikariDataSource ds, LogStore store, long index, int n) {
    return java.util.concurrent.CompletableFuture.supplyAsync(
        () -> {
          try (Connection d = ds.getConnection()) {
            d.setAutoCommit(true);
            return store.appendInOneStatement(d, index, rows(index, n), List.of());
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
}
