package io.yinxin.audit.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.EventType;
import io.yinxin.audit.Receipt;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.soft.SoftKeyBackend;
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
import org.junit.jupiter.api.Test;

/**
 * Two integrators (two nodes) appending at once to one PostgreSQL log. Each takes the one-statement
 * path with the tree size it last wrote; whenever the other has appended meanwhile the database
 * refuses it and it takes the locked path. The result is one gapless tree whose stored tiles and
 * every receipt match the leaves.
 */
class TwoIntegratorsTest {

  @Test
  void twoNodesAppendingAtOnceMakeOneGaplessTreeWithConsistentTiles() throws Exception {
    PostgresDatabase db = new PostgresDatabase();
    try (HikariDataSource ds = db.pool(20)) {
      LogStore store = LogStore.open(ds);
      List<Integrator> nodes =
          List.of(new Integrator(store, 100, 10_000), new Integrator(store, 100, 10_000));
      ExecutorService pool = Executors.newFixedThreadPool(16);
      List<Future<Receipt>> receipts = new ArrayList<>();
      try {
        for (int i = 0; i < 3_000; i++) {
          Integrator node = nodes.get(i % 2);
          AuditEvent e = AuditEvent.of(EventType.KEY_USED, "two-nodes", "e-" + i, Map.of());
          receipts.add(pool.submit(() -> node.append(e)));
        }
        for (Future<Receipt> f : receipts) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
        nodes.forEach(Integrator::close);
      }
      assertThat(nodes.stream().mapToLong(Integrator::sizeChanges).sum())
          .as("the nodes got in each other's way, so the locked path ran too")
          .isPositive();
      assertConsistent(ds, store, receipts, 3_000);
    }
  }

  /**
   * One appender per node, each alone in its process, taking turns: every append is written by its
   * own appender (no writer thread), through the one-entry statement while the tree ends where the
   * node last wrote it and through the locked path when the other node wrote meanwhile (every turn
   * but the first); more than a tile's worth, so tiles complete on both paths.
   */
  @Test
  void loneAppendersOnTwoNodesWriteTheirOwnEntriesIntoOneConsistentTree() throws Exception {
    PostgresDatabase db = new PostgresDatabase();
    try (HikariDataSource ds = db.pool(4)) {
      LogStore store = LogStore.open(ds);
      List<Integrator> nodes =
          List.of(new Integrator(store, 100, 10_000), new Integrator(store, 100, 10_000));
      List<Future<Receipt>> receipts = new ArrayList<>();
      int n = 700;
      try {
        // Runs of 1 to 3 appends on one node, then the other: a run's later appends find the
        // tree where their node left it (one statement), its first finds it moved (locked path).
        int i = 0;
        for (int turn = 0; i < n; turn++) {
          Integrator node = nodes.get(turn % 2);
          for (int k = 0; k <= turn % 3 && i < n; k++, i++) {
            receipts.add(
                java.util.concurrent.CompletableFuture.completedFuture(
                    node.append(
                        AuditEvent.of(EventType.KEY_USED, "lone", "e-" + i, Map.of("i", "" + i)))));
          }
        }
      } finally {
        nodes.forEach(Integrator::close);
      }
      assertThat(nodes.stream().mapToLong(Integrator::directWrites).sum())
          .as(
              "written by their own appender: all but those that came while the writer thread"
                  + " looked at the outbox (every 200 ms)")
          .isBetween(n - 20L, (long) n);
      for (Integrator node : nodes) {
        assertThat(node.sizeChanges()).as("the other node wrote in between").isPositive();
      }
      assertConsistent(ds, store, receipts, n);
    }
  }

  @Test
  void twoThreadsOnOneNodeTakeTurnsWritingTheirOwnEntries() throws Exception {
    PostgresDatabase db = new PostgresDatabase();
    try (HikariDataSource ds = db.pool(4)) {
      LogStore store = LogStore.open(ds);
      int perThread = 400;
      List<Future<Receipt>> receipts = new ArrayList<>();
      Integrator node = new Integrator(store, 100, 10_000);
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        List<Future<List<Receipt>>> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
          int id = t;
          threads.add(
              pool.submit(
                  () -> {
                    List<Receipt> mine = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                      mine.add(
                          node.append(
                              AuditEvent.of(
                                  EventType.KEY_USED, "t" + id, "e-" + i, Map.of("i", "" + i))));
                    }
                    return mine;
                  }));
        }
        for (Future<List<Receipt>> f : threads) {
          for (Receipt r : f.get()) {
            receipts.add(java.util.concurrent.CompletableFuture.completedFuture(r));
          }
        }
      } finally {
        pool.shutdown();
        node.close();
      }
      // The second of two appenders waits for the first one's commit and writes its own entry
      // (no hand-over to the writer thread and back): nearly all entries are written directly.
      assertThat(node.directWrites())
          .as("written by their own appender")
          .isGreaterThan(2L * perThread * 8 / 10);
      assertConsistent(ds, store, receipts, 2 * perThread);
    }
  }

  /**
   * A lone append that completes a tile writes the entry and its tiles in one statement, the tiles
   * only with the entry: refused because another node took the index, the tile the other node wrote
   * stays. (Refused because the database lost the node's newest entry: {@link
   * RestoredDatabaseTest}.)
   */
  @Test
  void aLoneAppendCompletingATileWritesItsTilesOnlyWithItsEntry() throws Exception {
    PostgresDatabase db = new PostgresDatabase();
    try (HikariDataSource ds = db.pool(4)) {
      LogStore store = LogStore.open(ds);
      Integrator a = new Integrator(store, 100, 10_000);
      Integrator b = new Integrator(store, 100, 10_000);
      List<Future<Receipt>> receipts = new ArrayList<>();
      try {
        for (int i = 0; i < 255; i++) {
          receipts.add(append(a, "a-" + i));
        }
        receipts.add(append(b, "b-255")); // completes tile 0 on node b
        assertThat(levelZeroTiles(ds)).isEqualTo(1);
        receipts.add(append(a, "a-256")); // a's edge still ends at 255: refused, locked path
        assertThat(receipts.get(receipts.size() - 1).get().index()).isEqualTo(256);
        for (int i = 257; i < 511; i++) {
          receipts.add(append(a, "a-" + i));
        }
        assertThat(levelZeroTiles(ds)).as("tile 1 is not complete").isEqualTo(1);
        receipts.add(append(a, "a-511")); // completes tile 1, one statement
        assertThat(levelZeroTiles(ds)).isEqualTo(2);
      } finally {
        a.close();
        b.close();
      }
      assertConsistent(ds, store, receipts, 512);
    }
  }

  static Future<Receipt> append(Integrator node, String subject) {
    return java.util.concurrent.CompletableFuture.completedFuture(
        node.append(AuditEvent.of(EventType.KEY_USED, "lone", subject, Map.of())));
  }

  static long levelZeroTiles(HikariDataSource ds) throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM audit.tiles WHERE level = 0")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** One gapless tree of {@code n} entries, each receipt's leaf at its index, tiles that check. */
  static void assertConsistent(
      HikariDataSource ds, LogStore store, List<Future<Receipt>> receipts, int n) throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      assertThat(store.size(c)).isEqualTo(n);
      try (ResultSet rs =
          s.executeQuery("SELECT count(*), min(idx), max(idx) FROM audit.entries")) {
        rs.next();
        assertThat(rs.getLong(1)).isEqualTo(n);
        assertThat(rs.getLong(2)).isZero();
        assertThat(rs.getLong(3)).isEqualTo(n - 1);
      }
      for (Future<Receipt> f : receipts) {
        Receipt r = f.get();
        try (ResultSet rs =
            s.executeQuery("SELECT leaf_hash FROM audit.entries WHERE idx = " + r.index())) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getBytes(1)).isEqualTo(r.leafHash());
        }
      }
    }
    KeyServices keys =
        KeyServices.of(SoftKeyBackend.open(Files.createTempDirectory("yinxin-two-")));
    keys.generate(KeyRef.Scheme.SOFT, io.yinxin.hsm.KeySpec.ED25519, "two");
    TileCache tiles = new TileCache(store, 64);
    CheckpointPublisher publisher =
        new CheckpointPublisher(store, tiles, keys, KeyRef.soft("two"), "yinxin.test/two");
    LogReader.CheckReport report = new LogReader(store, tiles, publisher.verifierKey()).check();
    assertThat(report.problems()).isEmpty();
    assertThat(report.size()).isEqualTo(n);
    keys.close();
  }
}
