package io.yinxin.ops;

import static io.yinxin.ops.BackupRestoreTest.asPostgres;
import static io.yinxin.ops.BackupRestoreTest.pg;
import static io.yinxin.ops.BackupRestoreTest.run;
import static io.yinxin.ops.BackupRestoreTest.startCluster;
import static io.yinxin.ops.NodeProcesses.JSON;
import static io.yinxin.ops.NodeProcesses.assertConsistentWith;
import static io.yinxin.ops.NodeProcesses.await;
import static io.yinxin.ops.NodeProcesses.lost;
import static io.yinxin.ops.NodeProcesses.monitor;
import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.testing.FreePorts;
import io.yinxin.ops.NodeProcesses.CheckpointWatcher;
import io.yinxin.ops.NodeProcesses.Load;
import io.yinxin.ops.NodeProcesses.Node;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;

/**
 * The off-site standby of the README's disaster-recovery section, on this machine: a primary
 * PostgreSQL cluster and a standby made from it with {@code pg_basebackup -R}, streaming
 * replication with {@code synchronous_standby_names='*'} (a commit is acknowledged only once the
 * standby has flushed it); the node's JDBC URL names both hosts with {@code
 * targetServerType=primary}. Under load (certificates issued, audit entries appended, each
 * acknowledged answer recorded) the primary's postmaster and every process of it are killed with
 * SIGKILL and the standby is promoted. Checked on the new primary: every acknowledged certificate
 * and audit entry is there (RPO 0), the log's next checkpoint is consistent with every checkpoint
 * published before the failure (consistency proofs, and the log monitor across the failure), and
 * the nodes write again without a restart (RTO printed). In the second scenario the node site is
 * lost with the primary (the node killed too) and a fresh node is started on the promoted standby.
 *
 * <p>Nodes run as separate processes (the executable's main class, this test's class path), so they
 * can be killed like a machine. {@code ops/bench/run-failover} repeats both scenarios and reports
 * RPO and RTO over the runs.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class FailoverTest {
  private final Cleanup cleanup = new Cleanup();

  @AfterEach
  void stopEverything() {
    cleanup.run();
  }

  @Test
  void thePrimaryDiesTheStandbyIsPromotedAndTheNodesWriteAgainLosingNothing() throws Exception {
    failover(false);
  }

  @Test
  void theWholeNodeSiteIsLostAndAFreshNodeServesFromThePromotedStandby() throws Exception {
    failover(true);
  }

  private void failover(boolean siteLost) throws Exception {
    Path work = Files.createTempDirectory("yinxin-failover-");
    cleanup.add(() -> BackupRestoreTest.deleteTree(work)); // runs last
    run(work, "chown", "postgres:postgres", work.toString());
    Path primary = work.resolve("primary");
    Path standby = work.resolve("standby");
    int primaryPort = FreePorts.next();
    int standbyPort = FreePorts.next();
    asPostgres(work, pg("initdb"), "-D", primary.toString(), "-A", "trust", "-U", "postgres");
    startCluster(cleanup, work, primary, primaryPort);
    asPostgres(
        work, pg("createdb"), "-h", "127.0.0.1", "-p", Integer.toString(primaryPort), "yinxin");
    asPostgres(
        work,
        pg("pg_basebackup"),
        "-h",
        "127.0.0.1",
        "-p",
        Integer.toString(primaryPort),
        "-D",
        standby.toString(),
        "-R",
        "--checkpoint=fast",
        "-X",
        "stream");
    startCluster(cleanup, work, standby, standbyPort);
    // From now on a commit waits until the standby has flushed it (set after the copy, which
    // would otherwise wait for a standby that does not exist yet).
    try (Connection c =
        DriverManager.getConnection(
            "jdbc:postgresql://127.0.0.1:" + primaryPort + "/postgres", "postgres", "")) {
      c.createStatement().execute("ALTER SYSTEM SET synchronous_standby_names = '*'");
      c.createStatement().execute("SELECT pg_reload_conf()");
    }
    awaitSql(
        primaryPort,
        "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'",
        "1",
        Duration.ofSeconds(30));

    // Both hosts in the URL; pgjdbc connects to whichever is the primary, and re-checks a host it
    // found to be a standby after a second (hostRecheckSeconds), so a promotion is seen at once.
    String url =
        "jdbc:postgresql://127.0.0.1:"
            + primaryPort
            + ",127.0.0.1:"
            + standbyPort
            + "/yinxin?targetServerType=primary&hostRecheckSeconds=1&connectTimeout=3";
    Path data = work.resolve("data");
    String[] settings = {
      "--spring.datasource.url=" + url,
      "--spring.datasource.username=postgres",
      "--spring.datasource.password=",
      "--spring.datasource.hikari.connection-timeout=5000"
    };
    Node node = NodeProcesses.start(cleanup, work, data, "node-1", settings);
    JsonNode dev = JSON.readTree(Files.readString(data.resolve("dev.json")));
    String verifierKey = dev.path("auditVerifierKey").asString();
    Path monitorState = work.resolve("monitor.state");
    assertThat(monitor(node.base(), verifierKey, monitorState))
        .as("monitor, first contact")
        .isZero();

    Load load =
        new Load(
            List.of(node.base()),
            dev.path("caOperatorToken").asString(),
            dev.path("auditWriterToken").asString());
    load.start();
    CheckpointWatcher watcher = new CheckpointWatcher(node::base);
    await(() -> load.certificates.size() >= 20 && load.entries.size() >= 50, 60, "load started");
    Thread.sleep(1500);
    assertThat(monitor(node.base(), verifierKey, monitorState)).as("monitor under load").isZero();

    // The primary site is lost: its postmaster and every backend, at once.
    killCluster(primary);
    if (siteLost) {
      node.process().destroyForcibly().waitFor();
    }
    // Only writes sent after this instant count towards the recovery: one sent just before it
    // may still have been acknowledged by the primary as it died.
    long killedAt = System.nanoTime();
    load.markKilled(killedAt);
    watcher.stop();
    asPostgres(work, pg("pg_ctl"), "-D", standby.toString(), "-w", "promote");
    double promotedAfter = (System.nanoTime() - killedAt) / 1e9;
    Node serving = node;
    if (siteLost) {
      load.stop();
      serving = NodeProcesses.start(cleanup, work, data, "node-2", settings); // at the other site
      JsonNode again = JSON.readTree(Files.readString(data.resolve("dev.json")));
      load.retarget(
          List.of(serving.base()),
          again.path("caOperatorToken").asString(),
          again.path("auditWriterToken").asString());
      load.start();
    }
    await(
        () -> load.firstCertificateAfterKill.get() != 0 && load.firstEntryAfterKill.get() != 0,
        120,
        "writes after the failover");
    Thread.sleep(1000);
    load.stop();

    // RPO: every acknowledged certificate and audit entry is on the new primary.
    long lost = lost("jdbc:postgresql://127.0.0.1:" + standbyPort + "/yinxin", load);
    assertThat(lost).as("acknowledged certificates and audit entries lost").isZero();
    // The log after the failover is consistent with every checkpoint published before it.
    assertConsistentWith(serving.base(), watcher.seen, load);
    assertThat(monitor(serving.base(), verifierKey, monitorState))
        .as("monitor after the failover")
        .isZero();

    double rtoCertificate = (load.firstCertificateAfterKill.get() - killedAt) / 1e9;
    double rtoEntry = (load.firstEntryAfterKill.get() - killedAt) / 1e9;
    System.out.printf(
        "failover: scenario=%s rpo=%d rto=%.2fs (issuance %.2fs, audit append %.2fs,"
            + " standby promoted %.2fs after the kill) acknowledged: %d certificates, %d audit"
            + " entries; refused during the failover: %d; checkpoints checked: %d%n",
        siteLost ? "site-lost" : "primary-lost",
        lost,
        Math.min(rtoCertificate, rtoEntry),
        rtoCertificate,
        rtoEntry,
        promotedAfter,
        load.certificates.size(),
        load.entries.size(),
        load.failures.sum(),
        watcher.seen.size());
  }

  /** SIGKILL to the postmaster and all its children: the machine is gone. */
  private static void killCluster(Path data) throws Exception {
    String pid = Files.readString(data.resolve("postmaster.pid")).lines().findFirst().orElseThrow();
    String children = run(Path.of("/"), "sh", "-c", "pgrep -P " + pid + " || true").strip();
    List<String> kill = new ArrayList<>(List.of("kill", "-KILL", pid));
    children.lines().filter(s -> !s.isBlank()).forEach(kill::add);
    run(Path.of("/"), kill.toArray(String[]::new));
  }

  private static void awaitSql(int port, String sql, String expected, Duration within)
      throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try (Connection c =
              DriverManager.getConnection(
                  "jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", "");
          ResultSet rs = c.createStatement().executeQuery(sql)) {
        rs.next();
        last = rs.getString(1);
        if (expected.equals(last)) {
          return;
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError(sql + " gave " + last + ", not " + expected);
  }
}
