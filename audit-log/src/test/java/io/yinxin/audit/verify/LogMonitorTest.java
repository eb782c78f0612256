package io.yinxin.audit.verify;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.EventType;
import io.yinxin.audit.merkle.Tiles;
import io.yinxin.audit.note.NoteVerifierKey;
import io.yinxin.audit.store.CheckpointPublisher;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogReader;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.TileCache;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monitor against real logs (store, integrator, publisher and reader on H2) served over HTTP
 * with the public paths of {@code /audit}: it follows an honest log across restarts, and it catches
 * each way a log can lie — a rollback, a fork of the same size, a larger tree with another history,
 * tiles that do not hash to the signed root, a forged or foreign checkpoint — each signed with the
 * log's own key where a lying operator could sign.
 */
class LogMonitorTest {
  private static KeyServices keys;
  private static KeyServices otherKeys;
  private static final KeyRef KEY = KeyRef.parse("soft:monitor-test-checkpoint");
  private static final String ORIGIN = "yinxin.test/monitor";
  private static HttpServer server;
  private static final AtomicReference<Log> served = new AtomicReference<>();
  private static final AtomicReference<Log> tilesFrom = new AtomicReference<>();
  private static final AtomicReference<UnaryOperator<String>> edit =
      new AtomicReference<>(UnaryOperator.identity());
  private static final List<Log> logs = new ArrayList<>();
  private static int dbs;

  @TempDir Path dir;

  /** One log: its own database, integrator, publisher and reader. */
  record Log(LogStore store, Integrator integrator, CheckpointPublisher publisher, LogReader reader)
      implements AutoCloseable {
    void append(String prefix, int n) {
      for (int i = 0; i < n; i++) {
        integrator.append(AuditEvent.of(EventType.KEY_USED, "monitor-test", prefix + i, Map.of()));
      }
      publisher.publish();
      reader.forgetLatest();
    }

    @Override
    public void close() {
      integrator.close();
    }
  }

  private static Log newLog(KeyServices k) {
    org.h2.jdbcx.JdbcDataSource ds = new org.h2.jdbcx.JdbcDataSource();
    ds.setURL(
        "jdbc:h2:mem:monitor"
            + dbs++
            + ";DB_CLOSE_DELAY=-1;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH");
    LogStore store = LogStore.open(ds);
    TileCache tiles = new TileCache(store, 1024);
    CheckpointPublisher publisher = new CheckpointPublisher(store, tiles, k, KEY, ORIGIN);
    Log log =
        new Log(
            store,
            new Integrator(store, 500, 10_000),
            publisher,
            new LogReader(store, tiles, publisher.verifierKey()));
    logs.add(log);
    return log;
  }

  @BeforeAll
  static void start() throws Exception {
    keys = KeyServices.of(SoftKeyBackend.open(Files.createTempDirectory("yx-monitor-")));
    keys.generate(KeyRef.Scheme.SOFT, KeySpec.ED25519, KEY.label());
    otherKeys = KeyServices.of(SoftKeyBackend.open(Files.createTempDirectory("yx-monitor-x-")));
    otherKeys.generate(KeyRef.Scheme.SOFT, KeySpec.ED25519, KEY.label());
    server =
        HttpServer.create(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/audit/checkpoint",
        ex -> {
          try (ex) {
            byte[] b =
                edit.get()
                    .apply(served.get().reader().latestCheckpoint().text())
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
          }
        });
    server.createContext(
        "/audit/tile/",
        ex -> {
          try (ex) {
            String rest = ex.getRequestURI().getPath().substring("/audit/tile/".length());
            Tiles.TileId id = Tiles.parse(rest).orElse(null);
            Log from = tilesFrom.get() != null ? tilesFrom.get() : served.get();
            byte[] b;
            try {
              b = id == null ? null : from.reader().tile(id);
            } catch (RuntimeException e) {
              b = null;
            }
            if (b == null) {
              ex.sendResponseHeaders(404, -1);
              return;
            }
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
          }
        });
    server.start();
  }

  @AfterAll
  static void stop() {
    server.stop(0);
    logs.forEach(Log::close);
  }

  private String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/audit";
  }

  private static NoteVerifierKey verifier() {
    return logs.get(0).publisher().verifierKey();
  }

  record Run(int exit, String out, String err) {}

  private Run monitor(String... extra) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> args =
        new ArrayList<>(
            List.of(
                "monitor",
                "--log",
                url(),
                "--key",
                verifier().toString(),
                "--state",
                dir.resolve("monitor.state").toString(),
                "--metrics-file",
                dir.resolve("monitor.prom").toString(),
                "--once"));
    args.addAll(List.of(extra));
    // Through audit-verify's entry point, as `java -jar audit-verify.jar monitor ...` runs it.
    int exit =
        AuditVerify.run(
            args.toArray(String[]::new),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private String metrics() throws Exception {
    return Files.readString(dir.resolve("monitor.prom"));
  }

  private void serve(Log log) {
    served.set(log);
    tilesFrom.set(null);
    edit.set(UnaryOperator.identity());
  }

  /**
   * The emergency rotation of a compromised checkpoint key: the old checkpoint stays verifiable
   * with the old key only, the new one with the new key only and consistent with the old; the log's
   * own check passes; a monitor told only the old key raises the alarm at the new key's checkpoint,
   * and one given the new key and the old one as --previous-key follows the log across the
   * rotation.
   */
  @Test
  void followsTheLogAcrossACheckpointKeyRotation() throws Exception {
    KeyServices own = KeyServices.of(SoftKeyBackend.open(dir.resolve("rotation-keys")));
    own.generate(KeyRef.Scheme.SOFT, KeySpec.ED25519, KEY.label());
    org.h2.jdbcx.JdbcDataSource ds = new org.h2.jdbcx.JdbcDataSource();
    ds.setURL(
        "jdbc:h2:mem:rotation;DB_CLOSE_DELAY=-1;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;"
            + "DEFAULT_NULL_ORDERING=HIGH");
    LogStore store = LogStore.open(ds);
    TileCache tiles = new TileCache(store, 1024);
    CheckpointPublisher publisher = new CheckpointPublisher(store, tiles, own, KEY, ORIGIN);
    try (Log log =
        new Log(
            store,
            new Integrator(store, 500, 10_000),
            publisher,
            new LogReader(store, tiles, publisher.checkpointKeys()))) {
      log.append("before", 300);
      serve(log);
      NoteVerifierKey old = publisher.verifierKey();
      Run first = monitor("--key", old.toString());
      assertThat(first.exit()).as(first.err()).isZero();
      String oldNote = log.reader().checkpointNote(300);

      java.time.Instant since = java.time.Instant.now().minusSeconds(3600);
      io.yinxin.audit.store.CheckpointKeys.Key fresh =
          publisher.checkpointKeys().rotate(java.util.Optional.of(since));
      assertThat(fresh.verifierKey()).isNotEqualTo(old);
      assertThat(fresh.firstSize()).isEqualTo(300);
      assertThat(publisher.checkpointKeys().isActive(fresh.ref())).isTrue();
      assertThat(publisher.checkpointKeys().isActive(KEY))
          .as("the old key is not exempt")
          .isFalse();
      log.append("after", 1);
      NoteVerifierKey now = publisher.verifierKey();
      assertThat(now).isEqualTo(fresh.verifierKey());

      io.yinxin.audit.note.SignedNote before = io.yinxin.audit.note.SignedNote.parse(oldNote);
      io.yinxin.audit.note.SignedNote after =
          io.yinxin.audit.note.SignedNote.parse(log.reader().checkpointNote(301));
      assertThat(before.verifiedBy(old)).isTrue();
      assertThat(before.verifiedBy(now)).isFalse();
      assertThat(after.verifiedBy(now)).isTrue();
      assertThat(after.verifiedBy(old)).isFalse();
      assertThat(log.reader().check().ok()).isTrue();
      List<io.yinxin.audit.store.CheckpointKeys.Key> all = publisher.checkpointKeys().all();
      assertThat(all).hasSize(2);
      assertThat(all.get(0).retiredAt()).isPresent();
      assertThat(all.get(0).distrustedFrom())
          .contains(since.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));

      Run stale = monitor("--key", old.toString());
      assertThat(stale.exit()).isEqualTo(LogMonitor.BAD_SIGNATURE);
      Run lost = monitor("--key", now.toString());
      assertThat(lost.exit()).isEqualTo(LogMonitor.USAGE);
      assertThat(lost.err()).contains("--previous-key");
      Run follows = monitor("--key", now.toString(), "--previous-key", old.toString());
      assertThat(follows.exit()).as(follows.err()).isZero();
      assertThat(follows.out()).contains("size=301 ").contains("consistent=true");

      // Two more rotations within one second each get a key of their own (labels are by the
      // second; the second rotation used to be refused: "key … already exists").
      var third = publisher.checkpointKeys().rotate(java.util.Optional.empty());
      var fourth = publisher.checkpointKeys().rotate(java.util.Optional.empty());
      assertThat(publisher.checkpointKeys().all())
          .extracting(io.yinxin.audit.store.CheckpointKeys.Key::verifierKey)
          .hasSize(4)
          .doesNotHaveDuplicates();
      assertThat(publisher.verifierKey()).isEqualTo(fourth.verifierKey());
      assertThat(third.ref()).isNotEqualTo(fourth.ref());
    }
  }

  @Test
  void followsAnHonestLogAcrossTileBoundariesAndResumesAfterARestart() throws Exception {
    Log a = newLog(keys);
    a.append("a", 10);
    serve(a);
    Run first = monitor();
    assertThat(first.exit()).as(first.err()).isZero();
    assertThat(first.out()).contains("size=10 ").contains("consistent=true");
    assertThat(metrics())
        .contains("yinxin_monitor_verified_size{log=\"" + ORIGIN + "\"} 10")
        .contains("yinxin_monitor_alert{log=\"" + ORIGIN + "\",kind=\"fork\"} 0");

    a.append("b", 600); // past the first and second full tiles
    Run grown = monitor();
    assertThat(grown.exit()).as(grown.err()).isZero();
    assertThat(grown.out()).contains("size=610 ").contains("consistent=true");

    // A restart is a new process: it reads what the last one verified from the state file.
    Run again = monitor();
    assertThat(again.exit()).isZero();
    assertThat(again.out()).contains("size=610 ").contains("unchanged=true");
  }

  @Test
  void aLogRolledBackBelowAVerifiedCheckpointIsCaught() throws Exception {
    Log a = newLog(keys);
    a.append("a", 40);
    serve(a);
    assertThat(monitor().exit()).isZero();
    // Restored from an older backup: a shorter tree, its checkpoint signed again with the key.
    Log restored = newLog(keys);
    restored.append("a", 25);
    serve(restored);
    Run r = monitor();
    assertThat(r.exit()).isEqualTo(LogMonitor.ROLLBACK);
    assertThat(r.err()).contains("event=monitor_alert kind=rollback").contains("size 25");
    assertThat(metrics()).contains("kind=\"rollback\"} 1");
    // What was verified stays: the rollback is still reported on the next run.
    assertThat(monitor().exit()).isEqualTo(LogMonitor.ROLLBACK);
  }

  @Test
  void anotherHistoryOfTheSameSizeIsAFork() throws Exception {
    Log a = newLog(keys);
    a.append("a", 300);
    serve(a);
    assertThat(monitor().exit()).isZero();
    Log other = newLog(keys);
    other.append("x", 300);
    serve(other);
    Run r = monitor();
    assertThat(r.exit()).isEqualTo(LogMonitor.FORK);
    assertThat(r.err()).contains("kind=fork").contains("same size 300");
    assertThat(metrics()).contains("kind=\"fork\"} 1");
  }

  @Test
  void aLargerTreeWithAnotherHistoryIsAFork() throws Exception {
    Log a = newLog(keys);
    a.append("a", 100);
    serve(a);
    assertThat(monitor().exit()).isZero();
    Log other = newLog(keys);
    other.append("a", 99); // the same first 99 entries (salted: their leaves differ anyway)
    other.append("x", 200);
    serve(other);
    Run r = monitor();
    assertThat(r.exit()).isEqualTo(LogMonitor.FORK);
    assertThat(r.err()).contains("not consistent with verified 100");
  }

  @Test
  void tilesThatDoNotHashToTheSignedRootAreCaughtOnFirstContact() throws Exception {
    Log a = newLog(keys);
    a.append("a", 50);
    Log other = newLog(keys);
    other.append("x", 50);
    serve(a);
    tilesFrom.set(other);
    Run r = monitor();
    assertThat(r.exit()).isEqualTo(LogMonitor.FORK);
    assertThat(r.err()).contains("tiles do not hash to the signed root");
    assertThat(Files.exists(dir.resolve("monitor.state"))).isFalse();
  }

  @Test
  void aForgedOrForeignCheckpointIsABadSignature() throws Exception {
    Log a = newLog(keys);
    a.append("a", 20);
    serve(a);
    assertThat(monitor().exit()).isZero();
    // The body edited (a larger size), the signature line kept.
    edit.set(t -> t.replaceFirst("\n20\n", "\n21\n"));
    Run forged = monitor();
    assertThat(forged.exit()).isEqualTo(LogMonitor.BAD_SIGNATURE);
    assertThat(forged.err()).contains("kind=bad_signature");
    // A log with the same name signed by another key.
    Log foreign = newLog(otherKeys);
    foreign.append("a", 30);
    serve(foreign);
    assertThat(monitor().exit()).isEqualTo(LogMonitor.BAD_SIGNATURE);
    // Not a note at all.
    edit.set(t -> "<html>maintenance</html>");
    assertThat(monitor().exit()).isEqualTo(LogMonitor.BAD_SIGNATURE);
  }

  /**
   * A hostile log serves a checkpoint full of escape sequences (erase the screen, fake an all-clear
   * line, hide what follows): the alarm is still raised, and what the monitor prints of the served
   * text is escaped, so the alert line cannot be hidden or forged.
   */
  @Test
  void aServedCheckpointCannotRewriteTheMonitorsOutput() throws Exception {
    Log a = newLog(keys);
    a.append("a", 20);
    serve(a);
    assertThat(monitor().exit()).isZero();
    edit.set(
        t ->
            t.replaceFirst(
                "\n20\n",
                "\n20\u001b[2J\revent=monitor_verified log=x consistent=true\u001b[8m\u202e\n"));
    Run r = monitor();
    assertThat(r.exit()).isEqualTo(LogMonitor.BAD_SIGNATURE);
    AuditVerifyOutputTest.assertOnlyPrintable(r.out() + r.err());
    assertThat(r.err().lines().filter(l -> l.startsWith("event=")).toList())
        .singleElement()
        .satisfies(l -> assertThat(l).startsWith("event=monitor_alert kind=bad_signature"));
    assertThat(r.err()).contains("\\u001b[2J\\u000devent=monitor_verified");
  }

  @Test
  void anEditedStateFileIsRefusedNotTrusted() throws Exception {
    Log a = newLog(keys);
    a.append("a", 20);
    serve(a);
    assertThat(monitor().exit()).isZero();
    Path state = dir.resolve("monitor.state");
    Files.writeString(state, Files.readString(state).replace("\\n20\\n", "\\n2\\n"));
    Run r = monitor();
    assertThat(r.exit()).isEqualTo(LogMonitor.USAGE);
    assertThat(r.err()).contains("unsigned checkpoint");
  }

  @Test
  void badUsageAndAnUnreachableLogAreNotAlarms() {
    assertThat(
            AuditVerify.run(
                new String[] {"monitor", "--log", "ftp://x", "--key", "k", "--state", "s"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)))
        .isEqualTo(LogMonitor.USAGE);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit =
        AuditVerify.run(
            new String[] {
              "monitor",
              "--log",
              "http://127.0.0.1:9/audit",
              "--key",
              newLog(keys).publisher().verifierKey().toString(),
              "--state",
              dir.resolve("s").toString(),
              "--once"
            },
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(exit).isEqualTo(LogMonitor.USAGE);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("event=monitor_unreachable");
  }
}
