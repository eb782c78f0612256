package io.yinxin.audit.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.EventType;
import io.yinxin.audit.evidence.Leaf;
import io.yinxin.audit.merkle.Rfc9162;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The self-check streams the log: a million entries are recomputed in a JVM with a 64 MiB heap
 * (holding every leaf and event would need several hundred), and a checkpoint larger than the tree
 * is reported, not skipped.
 */
class LogCheckAtScaleTest {
  static final int ENTRIES = 1_000_000;
  static final String ORIGIN = "yinxin.test/scale";

  static LogStore open(String url) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(url);
    ds.setUser(PostgresDatabase.USER);
    return LogStore.open(ds);
  }

  /** Writes {@code n} well-formed entries straight into the store, 20,000 per transaction. */
  static void fill(LogStore store, int n) throws Exception {
    SplittableRandom random = new SplittableRandom(7);
    Instant time = Instant.parse("2026-12-01T00:00:00Z");
    try (Connection c = store.connection()) {
      c.setAutoCommit(false);
      RightEdge edge = RightEdge.load(store, c, store.lockSize(c));
      long index = edge.size();
      while (index < n) {
        List<LogStore.Row> rows = new ArrayList<>();
        for (int i = 0; i < 20_000 && index < n; i++, index++) {
          AuditEvent e =
              new AuditEvent(
                  EventType.KEY_USED,
                  "scale",
                  "s-" + index,
                  time,
                  Map.of("n", Long.toString(index)),
                  java.util.Optional.empty());
          byte[] canonical = e.canonicalBytes();
          byte[] salt = new byte[16];
          random.nextBytes(salt);
          byte[] leaf =
              new Leaf(e.type().name(), e.time().toString(), Leaf.commit(salt, canonical)).encode();
          byte[] leafHash = Rfc9162.leafHash(leaf);
          rows.add(
              new LogStore.Row(
                  index,
                  leaf,
                  leafHash,
                  e.type().name(),
                  e.actor(),
                  e.subject(),
                  e.time(),
                  new String(canonical, StandardCharsets.UTF_8),
                  salt,
                  0));
          edge.append(leafHash);
        }
        store.insert(c, rows);
        edge.flush(store, c);
        c.commit();
        store.lockSize(c);
      }
      c.commit();
    }
  }

  /** The child: runs the self-check and prints its report. Arguments: JDBC URL, key folder. */
  public static void main(String[] args) throws Exception {
    LogStore store = open(args[0]);
    KeyServices keys = KeyServices.of(SoftKeyBackend.open(Path.of(args[1])));
    TileCache tiles = new TileCache(store, 64);
    CheckpointPublisher publisher =
        new CheckpointPublisher(store, tiles, keys, KeyRef.soft("scale"), ORIGIN);
    LogReader.CheckReport r = new LogReader(store, tiles, publisher.verifierKey()).check();
    System.out.println("REPORT ok=" + r.ok() + " size=" + r.size() + " problems=" + r.problems());
  }

  private static String checkInSmallHeap(String url, Path keys) throws Exception {
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m",
                "-cp",
                System.getProperty("java.class.path"),
                LogCheckAtScaleTest.class.getName(),
                url,
                keys.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }

  @Test
  void aMillionEntriesAreCheckedInA64MibHeapAndACheckpointBeyondTheTreeIsReported()
      throws Exception {
    String url = new PostgresDatabase().url() + "?reWriteBatchedInserts=true";
    LogStore store = open(url);
    Path keys = Files.createTempDirectory("yinxin-scale-keys-");
    KeyServices ks = KeyServices.of(SoftKeyBackend.open(keys));
    ks.generate(KeyRef.Scheme.SOFT, KeySpec.ED25519, "scale");
    fill(store, ENTRIES);
    CheckpointPublisher publisher =
        new CheckpointPublisher(
            store, new TileCache(store, 1024), ks, KeyRef.soft("scale"), ORIGIN);
    assertThat(publisher.publish()).isEqualTo(ENTRIES);

    assertThat(checkInSmallHeap(url, keys))
        .contains("REPORT ok=true size=" + ENTRIES + " problems=[]");

    // The log loses its newest entries: the signed checkpoint now claims more than the tree has.
    try (Connection c = store.connection()) {
      c.setAutoCommit(false);
      long keep = ENTRIES - 1000;
      try (var s = c.createStatement()) {
        s.executeUpdate("DELETE FROM audit.events WHERE idx >= " + keep);
      }
      c.commit();
    }
    assertThat(checkInSmallHeap(url, keys))
        .contains("REPORT ok=false")
        .contains("checkpoint " + ENTRIES + " is larger than the tree");
  }
}
