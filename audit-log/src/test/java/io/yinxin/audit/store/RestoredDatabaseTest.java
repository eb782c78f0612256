package io.yinxin.audit.store;

import static io.yinxin.audit.store.TwoIntegratorsTest.append;
import static io.yinxin.audit.store.TwoIntegratorsTest.assertConsistent;
import static io.yinxin.audit.store.TwoIntegratorsTest.levelZeroTiles;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.Receipt;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * The database a node appends to loses its newest entries the way it does in operation: the server
 * is stopped and its data folder replaced by a copy taken earlier, then started again (what a
 * restore does, or a failover to a standby that lagged). The node keeps the tree's right edge in
 * memory and writes lone entries without the append lock; it must write its next entry where the
 * restored tree ends — no gap, no tile computed from entries the database no longer has — also when
 * another node has meanwhile grown the restored tree back to this node's size with other entries.
 */
@ExtendWith(OutputCaptureExtension.class)
class RestoredDatabaseTest {

  @Test
  void aNodeWhoseDatabaseWasRestoredFromAnEarlierCopyAppendsWhereTheRestoredTreeEnds(
      CapturedOutput output) throws Exception {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    io.micrometer.core.instrument.Metrics.addRegistry(meters);
    try (ScratchCluster cluster = new ScratchCluster();
        HikariDataSource ds = cluster.pool(4)) {
      LogStore store = LogStore.open(ds);
      Integrator a = new Integrator(store, 100, 10_000);
      Integrator b = new Integrator(store, 100, 10_000);
      List<Future<Receipt>> receipts = new ArrayList<>();
      try {
        for (int i = 0; i < 510; i++) {
          receipts.add(append(a, "a-" + i));
        }
        cluster.stop();
        cluster.copyAs("backup"); // 510 entries
        cluster.start();
        ds.getHikariPoolMXBean().softEvictConnections();

        // The server restarted and still holds every entry: the node reads its tree back once.
        receipts.add(append(a, "a-510"));
        assertThat(receipts.get(510).get().index()).isEqualTo(510);
        assertThat(a.sizeChanges()).isOne();
        assertThat(levelZeroTiles(ds)).isOne();
        assertThat(output).contains("event=audit_database_server_changed seen=510 size=510");

        restore(cluster, ds);
        receipts.remove(510);
        // a's edge ends at 511, so this entry would complete tile 1: not written there, no tile.
        receipts.add(append(a, "a-510-again"));
        assertThat(receipts.get(510).get().index()).isEqualTo(510);
        assertThat(levelZeroTiles(ds)).as("tile 1 is not complete").isOne();
        assertThat(output).contains("event=audit_tree_shorter_than_seen seen=511 size=510");
        assertThat(meters.get("yinxin.audit.entries.lost").counter().count())
            .as("the one entry a had acknowledged at 510, what YinxinAuditEntriesLost watches")
            .isEqualTo(1.0);
        receipts.add(append(a, "a-511")); // completes tile 1, one statement
        assertThat(receipts.get(511).get().index()).isEqualTo(511);
        assertThat(levelZeroTiles(ds)).isEqualTo(2);
        long refusedBefore = a.sizeChanges();

        // Restored again; another node appends two entries of its own, so the tree is back at
        // the size a last wrote, with other leaves at 510 and 511.
        restore(cluster, ds);
        receipts.subList(510, 512).clear();
        receipts.add(append(b, "b-510"));
        receipts.add(append(b, "b-511"));
        assertThat(receipts.get(511).get().index()).isEqualTo(511);
        receipts.add(append(a, "a-512"));
        assertThat(receipts.get(512).get().index()).isEqualTo(512);
        assertThat(a.sizeChanges())
            .as("a read the restored tree back")
            .isGreaterThan(refusedBefore);
        assertThat(output).contains("event=audit_database_server_changed seen=512 size=512");
        assertThat(meters.get("yinxin.audit.entries.lost").counter().count())
            .as("none lost this time: the tree is back at a's size")
            .isEqualTo(1.0);
        // Past tile 2, whose completion writes the level-1 tile that holds tile 1's hash.
        for (int i = 513; i < 770; i++) {
          receipts.add(append(a, "a-" + i));
        }
      } finally {
        a.close();
        b.close();
      }
      assertConsistent(ds, store, receipts, 770);
    } finally {
      io.micrometer.core.instrument.Metrics.removeRegistry(meters);
    }
  }

  /**
   * Commits that are not durable ({@code synchronous_commit = off} for the database) are how a
   * running server loses acknowledged entries: the node says so when it opens the log, and never
   * appends from its memory of the tree, each append reading the tree back under the lock — slower,
   * and still one gapless tree.
   */
  @Test
  void onADatabaseWithoutDurableCommitsTheNodeSaysSoAndReadsTheTreeBackForEveryAppend(
      CapturedOutput output) throws Exception {
    PostgresDatabase db = new PostgresDatabase();
    String name = db.url().substring(db.url().lastIndexOf('/') + 1);
    try (HikariDataSource ds = db.pool(4)) {
      try (java.sql.Connection c = ds.getConnection();
          java.sql.Statement s = c.createStatement()) {
        s.execute("ALTER DATABASE " + name + " SET synchronous_commit = off");
      }
      ds.getHikariPoolMXBean().softEvictConnections();
      LogStore store = LogStore.open(ds);
      assertThat(output)
          .contains("event=audit_commits_not_durable synchronous_commit=off fsync=on");
      Integrator node = new Integrator(store, 100, 10_000);
      List<Future<Receipt>> receipts = new ArrayList<>();
      try {
        for (int i = 0; i < 300; i++) {
          receipts.add(append(node, "e-" + i));
        }
      } finally {
        node.close();
      }
      assertThat(node.directWrites()).isGreaterThan(250);
      assertThat(node.sizeChanges())
          .as("every lone append but the first (no tree in memory yet) was refused")
          .isGreaterThanOrEqualTo(node.directWrites() - 1);
      assertConsistent(ds, store, receipts, 300);
    }
    PostgresDatabase durable = new PostgresDatabase();
    try (HikariDataSource ds = durable.pool(2)) {
      int before = output.getAll().split("event=audit_commits_not_durable", -1).length;
      LogStore.open(ds);
      assertThat(output.getAll().split("event=audit_commits_not_durable", -1).length)
          .isEqualTo(before);
    }
  }

  private static void restore(ScratchCluster cluster, HikariDataSource ds) throws Exception {
    cluster.stop();
    cluster.restore("backup");
    cluster.start();
    ds.getHikariPoolMXBean().softEvictConnections();
  }
}
