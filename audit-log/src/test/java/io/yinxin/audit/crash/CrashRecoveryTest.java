package io.yinxin.audit.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.EventType;
import io.yinxin.audit.merkle.Rfc9162;
import io.yinxin.audit.merkle.Tiles;
import io.yinxin.audit.note.Checkpoint;
import io.yinxin.audit.note.SignedNote;
import io.yinxin.audit.store.CheckpointPublisher;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogReader;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.audit.store.TileCache;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SIGKILL in the middle of 32 concurrent appenders loses nothing that was acknowledged, leaves no
 * gap or duplicate, and the log carries on consistently with the last checkpoint it published
 * before the kill — on PostgreSQL and on the embedded default's H2 file database, whose URL here
 * sets no write delay (the store itself must make commits reach the file).
 */
class CrashRecoveryTest {

  /** The embedded default's H2 URL (ops application.yml) without any durability option. */
  static String embeddedH2Url(Path dir) {
    return "jdbc:h2:file:"
        + dir.resolve("yinxin")
        + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH";
  }

  static Stream<Arguments> databases() throws Exception {
    return Stream.of(
        Arguments.of("postgresql", new PostgresDatabase().url(), PostgresDatabase.USER),
        Arguments.of("h2", embeddedH2Url(Files.createTempDirectory("yinxin-crash-h2-")), "sa"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void acknowledgedAppendsSurviveSigkillAndTheNextCheckpointIsConsistent(
      String name, String url, String user) throws Exception {
    Path keys = Files.createTempDirectory("yinxin-crash-keys-");
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                CrashAppender.class.getName(),
                url,
                user,
                keys.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    Map<Long, String> acknowledged = new HashMap<>();
    // The last checkpoint the child published (committed) before it died: what monitors saw.
    String[] lastCheckpoint = {null};
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("C ")) {
          lastCheckpoint[0] = line;
        }
        if (line.startsWith("R ")) {
          String[] p = line.split(" ");
          assertThat(acknowledged.put(Long.parseLong(p[1]), p[2]))
              .as("index handed out twice")
              .isNull();
          if (acknowledged.size() == 3000) {
            // SIGKILL from outside: no shutdown hooks, no flush, and (unlike
            // Process.destroyForcibly) our end of the pipe stays open to drain.
            new ProcessBuilder("kill", "-KILL", Long.toString(child.pid())).start().waitFor();
            break;
          }
        }
      }
      // Receipts already written to the pipe before the kill are acknowledgements too.
      while ((line = in.readLine()) != null) {
        if (line.startsWith("C ")) {
          lastCheckpoint[0] = line;
        }
        if (line.startsWith("R ")) {
          String[] p = line.split(" ");
          acknowledged.put(Long.parseLong(p[1]), p[2]);
        }
      }
    }
    child.waitFor();
    assertThat(child.exitValue()).isEqualTo(137);

    assertThat(lastCheckpoint[0]).as("a checkpoint was published before the kill").isNotNull();
    long publishedSize = Long.parseLong(lastCheckpoint[0].split(" ")[1]);
    byte[] publishedRoot = HexFormat.of().parseHex(lastCheckpoint[0].split(" ")[2]);

    LogStore store = CrashAppender.open(url, user);
    long sizeAfterCrash;
    try (Connection c = store.connection()) {
      sizeAfterCrash = store.size(c);
      assertThat(sizeAfterCrash)
          .as("the tree after restart is not below a checkpoint published before the kill")
          .isGreaterThanOrEqualTo(publishedSize);
      try (ResultSet rs =
          c.createStatement()
              .executeQuery("SELECT count(*), min(idx), max(idx) FROM audit.entries")) {
        rs.next();
        assertThat(rs.getLong(1)).isEqualTo(sizeAfterCrash);
        assertThat(rs.getLong(2)).isZero();
        assertThat(rs.getLong(3)).isEqualTo(sizeAfterCrash - 1);
      }
      for (var e : acknowledged.entrySet()) {
        try (var ps = c.prepareStatement("SELECT leaf_hash FROM audit.entries WHERE idx = ?")) {
          ps.setLong(1, e.getKey());
          try (ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).as("acknowledged index %d is missing", e.getKey()).isTrue();
            assertThat(HexFormat.of().formatHex(rs.getBytes(1))).isEqualTo(e.getValue());
          }
        }
      }
    }
    assertThat(acknowledged.size())
        .isGreaterThanOrEqualTo(3000)
        .isLessThanOrEqualTo((int) sizeAfterCrash);

    // Restart: a new integrator and publisher on the same database carry on.
    KeyServices ks = KeyServices.of(SoftKeyBackend.open(keys));
    TileCache tiles = new TileCache(store, 4096);
    CheckpointPublisher publisher =
        new CheckpointPublisher(
            store, tiles, ks, KeyRef.soft("crash-checkpoint"), "yinxin.test/crash");
    try (Integrator integrator = new Integrator(store, 100, 1000)) {
      for (int i = 0; i < 10; i++) {
        assertThat(
                integrator
                    .append(AuditEvent.of(EventType.KEY_USED, "after", "restart-" + i, Map.of()))
                    .index())
            .isEqualTo(sizeAfterCrash + i);
      }
    }
    long published = publisher.publish();
    assertThat(published).isEqualTo(sizeAfterCrash + 10);

    try (Connection c = store.connection()) {
      SignedNote after = SignedNote.parse(store.latestCheckpoint(c).orElseThrow().note());
      assertThat(after.verifiedBy(publisher.verifierKey())).isTrue();
      Checkpoint now = Checkpoint.parse(after.body());
      List<byte[]> proof =
          Rfc9162.consistencyProof(
              Tiles.subtreeHashes(tiles.reader(c), now.size()), publishedSize, now.size());
      assertThat(
              Rfc9162.verifyConsistency(
                  publishedSize, now.size(), publishedRoot, now.root(), proof))
          .as("first checkpoint after restart is consistent with the last one published")
          .isTrue();
    }
    LogReader.CheckReport report = new LogReader(store, tiles, publisher.verifierKey()).check();
    assertThat(report.problems()).isEmpty();
    assertThat(report.ok()).isTrue();
    assertThat(Optional.of(report.size())).contains(sizeAfterCrash + 10);
  }
}
