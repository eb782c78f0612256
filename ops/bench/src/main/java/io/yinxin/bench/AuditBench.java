package io.yinxin.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.EventType;
import io.yinxin.audit.merkle.Rfc9162;
import io.yinxin.audit.merkle.Tiles;
import io.yinxin.audit.store.CheckpointPublisher;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogReader;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.TileCache;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The audit log against PostgreSQL on this machine. Prints one table:
 *
 * <ul>
 *   <li>durable appends/s and p50/p99 acknowledgement latency at 1, 16 and 64 writers, against a
 *       baseline in the same run: each writer doing its own INSERT + COMMIT per event (what a log
 *       without group commit does), the two taking turns in BENCH_ROUNDS rounds;
 *   <li>append-to-checkpoint lag under the 64-writer load;
 *   <li>server-side inclusion-proof and tile-fetch time in a tree of 10^7 leaves, against one
 *       primary-key read of a tile row;
 *   <li>bytes stored per entry;
 *   <li>with BENCH_PHASES=floor, where a lone append's time goes ({@link #floor}); with steps, the
 *       same split op by op ({@link #steps}).
 * </ul>
 *
 * Environment: BENCH_PHASES (appends,proofs; floor and steps for where a lone append's time goes),
 * BENCH_STEP_OPS (20000, operations per load in the steps phase), BENCH_SECONDS (15) per load phase
 * and side, BENCH_ROUNDS (5) turns it is split into, BENCH_WRITERS (1,16,64) the concurrencies
 * measured, BENCH_WARMUP_SECONDS (60, 64 writers before the measured phases, for each side),
 * BENCH_WARMUP_EACH_SECONDS (20, each side again at each concurrency before it is measured),
 * BENCH_PROOF_SIZE (10000000), YINXIN_BENCH_PG (jdbc:postgresql://127.0.0.1:5432/),
 * YINXIN_BENCH_PG_USER (postgres).
 */
public final class AuditBench {
  private static final int SECONDS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_SECONDS", "15"));
  private static final int WARMUP_SECONDS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_WARMUP_SECONDS", "60"));
  private static final int WARMUP_EACH_SECONDS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_WARMUP_EACH_SECONDS", "20"));
  private static final int ROUNDS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_ROUNDS", "5"));
  private static final int[] WRITERS =
      Arrays.stream(System.getenv().getOrDefault("BENCH_WRITERS", "1,16,64").split(","))
          .mapToInt(w -> Integer.parseInt(w.trim()))
          .toArray();
  private static final int INDEX_MS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_INDEX_MS", "250"));
  private static final long PROOF_SIZE =
      Long.parseLong(System.getenv().getOrDefault("BENCH_PROOF_SIZE", "10000000"));

  private AuditBench() {}

  public static void main(String[] args) throws Exception {
    List<String> rows = new ArrayList<>();
    rows.add("| measurement | writers | Yinxin | baseline | ratio |");
    rows.add("|---|---|---|---|---|");
    String phases = System.getenv().getOrDefault("BENCH_PHASES", "appends,proofs");
    if (phases.contains("appends")) {
      appends(rows);
    }
    if (phases.contains("proofs")) {
      proofs(rows);
    }
    if (phases.contains("floor")) {
      floor(rows);
    }
    if (phases.contains("steps")) {
      steps(rows);
    }
    System.out.println();
    rows.forEach(System.out::println);
  }

  private static void appends(List<String> rows) throws Exception {
    String db = BenchDb.create();
    try (HikariDataSource ds = BenchDb.pool(db, 80)) {
      LogStore store = LogStore.open(ds);
      TileCache tiles = new TileCache(store, 16_384);
      CheckpointPublisher publisher = publisher(store, tiles, "yinxin.bench/audit");
      tables(ds);
      // The query index is filled after the acknowledgement (LogStore.indexCaughtUp), every 250 ms
      // as the node's audit-index thread does: it runs all through the measured rounds, so its cost
      // is in Yinxin's numbers (during the baseline's turns it finds nothing new after its first
      // round). BENCH_INDEX_MS sets the interval (0: off), to weigh what the indexing costs.
      AtomicBoolean indexing = new AtomicBoolean(true);
      Thread indexer =
          new Thread(
              () -> {
                while (indexing.get() && INDEX_MS > 0) {
                  store.indexCaughtUp(20_000, 5_000_000_000L);
                  sleepQuietly(INDEX_MS);
                }
              },
              "bench-indexer");
      indexer.setDaemon(true);
      indexer.start();
      try (Integrator integrator = new Integrator(store, 2000, 100_000)) {
        // Warm-up (the JIT needs a minute or more under load on two cores), not measured.
        load(64, WARMUP_SECONDS, () -> integrator.append(event()));
        load(64, WARMUP_SECONDS, () -> naiveAppend(ds)); // the same warm-up for the baseline
        for (int writers : WRITERS) {
          // And again at this concurrency, both sides the same: the 64-writer warm-up compiles the
          // log's batch path, not the path one writer alone takes (a lone append writes its own
          // row), while the baseline's code is the same at every concurrency.
          load(writers, WARMUP_EACH_SECONDS, () -> integrator.append(event()));
          load(writers, WARMUP_EACH_SECONDS, () -> naiveAppend(ds));
          Result[] both =
              alternating(writers, () -> integrator.append(event()), () -> naiveAppend(ds));
          Result ours = both[0];
          Result naive = both[1];
          rows.add(row("durable appends/s", writers, ours.perSecond(), naive.perSecond(), "%,.0f"));
          rows.add(row("ack latency p50 (ms)", writers, ours.p50(), naive.p50(), "%.2f"));
          rows.add(row("ack latency p99 (ms)", writers, ours.p99(), naive.p99(), "%.2f"));
        }
        // Lag from acknowledgement to a checkpoint covering the entry, under 64 writers.
        AtomicBoolean stop = new AtomicBoolean();
        Thread publisherThread =
            new Thread(
                () -> {
                  while (!stop.get()) {
                    publisher.publish();
                    sleepQuietly(250);
                  }
                });
        publisherThread.start();
        ConcurrentLinkedQueue<Double> lags = new ConcurrentLinkedQueue<>();
        Thread prober =
            new Thread(
                () -> {
                  while (!stop.get()) {
                    long index = integrator.append(event()).index();
                    long acked = System.nanoTime();
                    while (!stop.get() && checkpointSize(ds) <= index) {
                      sleepQuietly(2);
                    }
                    lags.add((System.nanoTime() - acked) / 1e6);
                    sleepQuietly(100);
                  }
                });
        prober.start();
        load(64, () -> integrator.append(event()));
        stop.set(true);
        prober.join();
        publisherThread.join();
        double[] lag = lags.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        rows.add(
            String.format(
                Locale.ROOT,
                "| append-to-checkpoint lag p50 / p99 (ms), %d samples, 250 ms interval | 64 | %.0f / %.0f | — | — |",
                lag.length,
                pct(lag, 50),
                pct(lag, 99)));
      }
      indexing.set(false);
      indexer.join();
      store.indexEvents(Integer.MAX_VALUE);
      publisher.publish();
      try (Connection c = ds.getConnection();
          Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT (SELECT COALESCE(MAX(idx) + 1, 0) FROM audit.events),"
                      + " pg_total_relation_size('audit.tiles'),"
                      + " pg_total_relation_size('audit.events')"
                      + " + pg_total_relation_size('audit.event_keys'),"
                      + " pg_total_relation_size('public.naive_log'), (SELECT count(*) FROM public.naive_log)")) {
        rs.next();
        long n = rs.getLong(1);
        rows.add(
            String.format(
                Locale.ROOT,
                "| bytes stored per entry: tiles + entry rows (leaf, event) with their query index | — | %.0f + %.0f | %.0f (naive row) | — |",
                rs.getLong(2) / (double) n,
                rs.getLong(3) / (double) n,
                rs.getLong(4) / (double) rs.getLong(5)));
      }
    }
  }

  private static void proofs(List<String> rows) throws Exception {
    String db = BenchDb.create();
    try (HikariDataSource ds = BenchDb.pool(db, 8)) {
      LogStore store = LogStore.open(ds);
      long t0 = System.nanoTime();
      syntheticTree(ds, PROOF_SIZE);
      double buildSeconds = (System.nanoTime() - t0) / 1e9;
      TileCache tiles = new TileCache(store, 16_384);
      CheckpointPublisher publisher = publisher(store, tiles, "yinxin.bench/proofs");
      publisher.publish();
      LogReader reader = new LogReader(store, tiles, publisher.verifierKey());
      SplittableRandom r = new SplittableRandom(7);
      int n = 2000;
      double[] cold = new double[n];
      double[] warm = new double[n];
      double[] tileFetch = new double[n];
      double[] pk = new double[n];
      long[] indices = new long[n];
      for (int i = 0; i < n; i++) {
        indices[i] = r.nextLong(PROOF_SIZE);
      }
      for (int i = 0; i < n; i++) {
        long a = System.nanoTime();
        reader.inclusion(indices[i], Optional.empty());
        cold[i] = (System.nanoTime() - a) / 1e6;
      }
      for (int i = 0; i < n; i++) {
        long a = System.nanoTime();
        reader.inclusion(indices[i], Optional.empty());
        warm[i] = (System.nanoTime() - a) / 1e6;
      }
      long fullTiles = PROOF_SIZE / 256;
      for (int i = 0; i < n; i++) {
        long t = r.nextLong(fullTiles);
        long a = System.nanoTime();
        reader.tile(new Tiles.TileId(0, t, 256));
        tileFetch[i] = (System.nanoTime() - a) / 1e6;
      }
      try (Connection c = ds.getConnection();
          PreparedStatement ps =
              c.prepareStatement("SELECT hashes FROM audit.tiles WHERE level = 0 AND idx = ?")) {
        for (int i = 0; i < n; i++) {
          ps.setLong(1, r.nextLong(fullTiles));
          long a = System.nanoTime();
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            rs.getBytes(1);
          }
          pk[i] = (System.nanoTime() - a) / 1e6;
        }
      }
      Arrays.sort(cold);
      Arrays.sort(warm);
      Arrays.sort(tileFetch);
      Arrays.sort(pk);
      rows.add(
          String.format(
              Locale.ROOT,
              "| synthetic tree of %,d leaves written (tiles) in | — | %.0f s | — | — |",
              PROOF_SIZE,
              buildSeconds));
      rows.add(
          row("inclusion proof p50 (ms), uncached tiles", 1, pct(cold, 50), pct(pk, 50), "%.3f"));
      rows.add(
          row("inclusion proof p99 (ms), uncached tiles", 1, pct(cold, 99), pct(pk, 99), "%.3f"));
      rows.add(
          row("inclusion proof p50 (ms), tiles cached", 1, pct(warm, 50), pct(pk, 50), "%.3f"));
      rows.add(
          row("inclusion proof p99 (ms), tiles cached", 1, pct(warm, 99), pct(pk, 99), "%.3f"));
      rows.add(
          row("tile fetch p50 (ms), random full tile", 1, pct(tileFetch, 50), pct(pk, 50), "%.3f"));
      rows.add(
          row("tile fetch p99 (ms), random full tile", 1, pct(tileFetch, 99), pct(pk, 99), "%.3f"));
    }
  }

  /**
   * Writes the tiles of a tree of {@code size} leaves (leaf i hashes the 8 bytes of i) straight
   * into the tiles table, and its last entry (which sets the tree size): proofs only read tiles.
   */
  private static void syntheticTree(HikariDataSource ds, long size) throws Exception {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      List<byte[]> levelHashes = null;
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO audit.tiles (level, idx, width, hashes) VALUES (?, ?, ?, ?)")) {
        // Level 0, streamed: never more than one tile of leaf hashes in memory.
        List<byte[]> up = new ArrayList<>();
        byte[] tile = new byte[256 * 32];
        int w = 0;
        long tileIndex = 0;
        int pending = 0;
        for (long i = 0; i < size; i++) {
          byte[] h = Rfc9162.leafHash(ByteBuffer.allocate(8).putLong(i).array());
          System.arraycopy(h, 0, tile, w * 32, 32);
          w++;
          if (w == 256 || i == size - 1) {
            ps.setInt(1, 0);
            ps.setLong(2, tileIndex);
            ps.setInt(3, w);
            ps.setBytes(4, Arrays.copyOf(tile, w * 32));
            ps.addBatch();
            if (++pending == 500) {
              ps.executeBatch();
              c.commit();
              pending = 0;
            }
            if (w == 256) {
              up.add(Tiles.tileRoot(tile));
            }
            tileIndex++;
            w = 0;
          }
        }
        ps.executeBatch();
        levelHashes = up;
        for (int level = 1; !levelHashes.isEmpty(); level++) {
          List<byte[]> next = new ArrayList<>();
          for (int t = 0; t * 256 < levelHashes.size(); t++) {
            int width = Math.min(256, levelHashes.size() - t * 256);
            byte[] b = new byte[width * 32];
            for (int k = 0; k < width; k++) {
              System.arraycopy(levelHashes.get(t * 256 + k), 0, b, k * 32, 32);
            }
            ps.setInt(1, level);
            ps.setLong(2, t);
            ps.setInt(3, width);
            ps.setBytes(4, b);
            ps.addBatch();
            if (width == 256) {
              next.add(Tiles.tileRoot(b));
            }
          }
          ps.executeBatch();
          levelHashes = next;
        }
      }
      // The tree size is the highest entry index plus one: the last entry is enough for proofs.
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO audit.events (idx, leaf, leaf_hash, type, actor, subject, event_time,"
                  + " event, salt) VALUES (?, ?, ?, 'KEY_USED', 'bench', 'bench', now(), '{}',"
                  + " '\\x00'::bytea)")) {
        byte[] leaf = ByteBuffer.allocate(8).putLong(size - 1).array();
        ps.setLong(1, size - 1);
        ps.setBytes(2, leaf);
        ps.setBytes(3, Rfc9162.leafHash(leaf));
        ps.executeUpdate();
      }
      c.commit();
    }
  }

  /** A publisher signing with a fresh soft Ed25519 key. */
  private static CheckpointPublisher publisher(LogStore store, TileCache tiles, String origin)
      throws java.io.IOException {
    KeyServices keys =
        KeyServices.of(SoftKeyBackend.open(Files.createTempDirectory("yinxin-bench-keys-")));
    keys.generate(KeyRef.Scheme.SOFT, KeySpec.ED25519, "bench-checkpoint");
    return new CheckpointPublisher(store, tiles, keys, KeyRef.soft("bench-checkpoint"), origin);
  }

  private static long checkpointSize(HikariDataSource ds) {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT coalesce(max(size), 0) FROM audit.checkpoints")) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final AtomicLong SEQ = new AtomicLong();

  private static AuditEvent event() {
    long n = SEQ.incrementAndGet();
    return AuditEvent.of(
        EventType.KEY_USED,
        "bench",
        "pkcs11:token=yinxin;object=citizen-ca-" + (n % 16),
        Map.of("operation", "SIGN", "algorithm", "ECDSA_SHA256", "purpose", "ocsp:" + n));
  }

  private static void naiveAppend(HikariDataSource ds) {
    AuditEvent e = event();
    naiveInsert(ds, NAIVE_SQL, Rfc9162.leafHash(e.canonicalBytes()), e.canonical());
  }

  private static final String NAIVE_SQL =
      "INSERT INTO public.naive_log (leaf, event) VALUES (?, ?)";

  private static void naiveInsert(HikariDataSource ds, String sql, byte[] leaf, String event) {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      c.setAutoCommit(true);
      ps.setBytes(1, leaf);
      ps.setString(2, event);
      ps.executeUpdate();
    } catch (java.sql.SQLException ex) {
      throw new IllegalStateException(ex);
    }
  }

  record Result(double perSecond, double p50, double p99) {}

  /** One run of a load: operations, seconds, and each operation's latency in milliseconds. */
  private record Sample(long count, double seconds, double[] latencies) {}

  /**
   * Yinxin and the baseline in {@link #ROUNDS} rounds each, taking turns, {@link #SECONDS} per side
   * in all: this machine's speed moves by a fifth or more within minutes, and taking turns gives
   * both sides the same share of its good and bad moments.
   */
  private static Result[] alternating(int writers, Runnable ours, Runnable base)
      throws InterruptedException {
    return rotating(writers, List.of(ours, base));
  }

  /** Any number of loads taking turns, as {@link #alternating} does for two. */
  private static Result[] rotating(int writers, List<Runnable> ops) throws InterruptedException {
    List<List<Sample>> samples = new ArrayList<>();
    ops.forEach(op -> samples.add(new ArrayList<>()));
    int each = Math.max(1, SECONDS / ROUNDS);
    for (int r = 0; r < ROUNDS; r++) {
      for (int i = 0; i < ops.size(); i++) {
        samples.get(i).add(run(writers, each, ops.get(i)));
      }
    }
    return samples.stream().map(AuditBench::result).toArray(Result[]::new);
  }

  /**
   * Where a lone append's time goes (BENCH_PHASES=floor), one writer, five loads taking turns after
   * the same warm-up each: the integrator; the statement a lone append sends ({@code
   * LogStore.appendOne}: Yinxin's row, written only on the server where the node saw its tree) by
   * plain JDBC, with the same Java inputs (canonical event, salt, leaf and its hash) but no
   * integrator; the same row with the check it had until 2026-12-07 (the entry before looked up);
   * the same row with no condition; and the naive baseline. Copies of {@code audit.events} (its
   * columns, keys and indexes) take the plain statements. The gap between the last two is the price
   * of the row itself, which no work on the integrator can take back.
   */
  private static void floor(List<String> rows) throws Exception {
    String db = BenchDb.create();
    try (HikariDataSource ds = BenchDb.pool(db, 8)) {
      LogStore store = LogStore.open(ds);
      tables(ds, "public.events_checked", "public.events_plain", "public.events_guarded");
      long[] server = server(ds, "public.events_guarded");
      AtomicLong guarded = new AtomicLong();
      AtomicLong checked = new AtomicLong();
      AtomicLong plain = new AtomicLong();
      appendRow(
          ds,
          rowSql("public.events_checked", null),
          checked.getAndIncrement(),
          null); // the first has no
      // predecessor
      String guardedSql = rowSql("public.events_guarded", server);
      String checkedSql = rowSql("public.events_checked", CHECK);
      String plainSql = rowSql("public.events_plain", null);
      try (Integrator integrator = new Integrator(store, 2000, 100_000)) {
        List<Runnable> ops =
            List.of(
                () -> integrator.append(event()),
                () -> appendRow(ds, guardedSql, guarded.getAndIncrement(), server),
                () -> appendRow(ds, checkedSql, checked.getAndIncrement(), CHECK),
                () -> appendRow(ds, plainSql, plain.getAndIncrement(), null),
                () -> naiveAppend(ds));
        for (Runnable op : ops) {
          load(1, WARMUP_SECONDS, op);
        }
        Result[] r = rotating(1, ops);
        double naive = r[4].perSecond();
        rows.add(
            row("floor: durable appends/s, the integrator", 1, r[0].perSecond(), naive, "%,.0f"));
        rows.add(
            row(
                "floor: its statement and row by plain JDBC (same server), no integrator",
                1,
                r[1].perSecond(),
                naive,
                "%,.0f"));
        rows.add(
            row(
                "floor: the same row, the entry before looked up (until 2026-12-07)",
                1,
                r[2].perSecond(),
                naive,
                "%,.0f"));
        rows.add(row("floor: the same row with no condition", 1, r[3].perSecond(), naive, "%,.0f"));
      }
    }
  }

  private static final int STEP_OPS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_STEP_OPS", "20000"));

  /**
   * Where a lone append's time goes, op by op (BENCH_PHASES=steps): one thread runs six loads one
   * operation each in turn, so each meets the machine, the server and the caches in the same state
   * (the floor phase's turns last seconds). The loads: the integrator; its statement by plain JDBC
   * with its inputs made per operation as the integrator makes them (event, canonical form, salt,
   * commitment, leaf, leaf hash); the same statement with inputs made once; the same row with no
   * condition, inputs made once; the naive baseline; the naive statement with inputs made once.
   * Mean microseconds per operation, after {@code BENCH_WARMUP_SECONDS} of the same rotation
   * unmeasured; the differences split a lone append's extra time into the row and its condition,
   * making the inputs, and the integrator's own work.
   */
  private static void steps(List<String> rows) throws Exception {
    String db = BenchDb.create();
    try (HikariDataSource ds = BenchDb.pool(db, 8)) {
      LogStore store = LogStore.open(ds);
      tables(ds, "public.events_guarded", "public.events_fixed", "public.events_plain");
      try (Connection c = ds.getConnection();
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE public.naive_fixed (LIKE public.naive_log INCLUDING ALL)");
      }
      long[] guardedServer = server(ds, "public.events_guarded");
      long[] fixedServer = server(ds, "public.events_fixed");
      String guardedSql = rowSql("public.events_guarded", guardedServer);
      String fixedSql = rowSql("public.events_fixed", fixedServer);
      String plainSql = rowSql("public.events_plain", null);
      AuditEvent once = event();
      RowInputs fixedRow = RowInputs.of(once);
      byte[] fixedLeaf = Rfc9162.leafHash(once.canonicalBytes());
      String fixedEvent = once.canonical();
      String naiveFixedSql = "INSERT INTO public.naive_fixed (leaf, event) VALUES (?, ?)";
      AtomicLong guarded = new AtomicLong();
      AtomicLong fixed = new AtomicLong();
      AtomicLong plain = new AtomicLong();
      try (Integrator integrator = new Integrator(store, 2000, 100_000)) {
        List<Runnable> ops =
            List.of(
                () -> integrator.append(event()),
                () -> appendRow(ds, guardedSql, guarded.getAndIncrement(), guardedServer),
                () -> insertRow(ds, fixedSql, fixed.getAndIncrement(), fixedServer, fixedRow),
                () -> insertRow(ds, plainSql, plain.getAndIncrement(), null, fixedRow),
                () -> naiveAppend(ds),
                () -> naiveInsert(ds, naiveFixedSql, fixedLeaf, fixedEvent));
        long warmEnd = System.nanoTime() + WARMUP_SECONDS * 1_000_000_000L;
        while (System.nanoTime() < warmEnd) {
          ops.forEach(Runnable::run);
        }
        long[] nanos = new long[ops.size()];
        for (int i = 0; i < STEP_OPS; i++) {
          for (int k = 0; k < ops.size(); k++) {
            long a = System.nanoTime();
            ops.get(k).run();
            nanos[k] += System.nanoTime() - a;
          }
        }
        double[] us = Arrays.stream(nanos).mapToDouble(n -> n / 1e3 / STEP_OPS).toArray();
        rows.add(
            stepRow("steps: µs per append, the integrator / the naive baseline", us[0], us[4]));
        rows.add(
            stepRow(
                "steps: µs, its statement by JDBC, inputs made per append / the naive",
                us[1],
                us[4]));
        rows.add(
            stepRow(
                "steps: µs, the statement alone (inputs made once) / the naive's", us[2], us[5]));
        rows.add(
            stepRow(
                "steps: µs, the same row with no condition (inputs made once) / the naive's",
                us[3],
                us[5]));
        rows.add(
            stepRow(
                "steps: µs making the inputs (per append minus made once), Yinxin / naive",
                us[1] - us[2],
                us[4] - us[5]));
        rows.add(
            String.format(
                Locale.ROOT,
                "| steps: µs the integrator adds to its statement | 1 | %.1f | — | — |",
                us[0] - us[1]));
      }
    }
  }

  /**
   * The naive baseline's table, and copies of {@code audit.events} (its columns, keys and indexes)
   * for the plain JDBC loads.
   */
  private static void tables(HikariDataSource ds, String... eventsCopies)
      throws java.sql.SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE public.naive_log (id BIGSERIAL PRIMARY KEY, leaf BYTEA NOT NULL, event TEXT NOT NULL)");
      for (String copy : eventsCopies) {
        s.execute("CREATE TABLE " + copy + " (LIKE audit.events INCLUDING ALL)");
      }
    }
  }

  /** A row of microseconds; the ratio is the rate's, baseline time over Yinxin's. */
  private static String stepRow(String what, double ours, double base) {
    return String.format(
        Locale.ROOT, "| %s | 1 | %.1f | %.1f | %.2f |", what, ours, base, base / ours);
  }

  /** The server identity the same-server condition compares: start time (µs), the table's id. */
  private static long[] server(HikariDataSource ds, String table) throws java.sql.SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        java.sql.ResultSet rs =
            s.executeQuery(
                "SELECT CAST(EXTRACT(EPOCH FROM pg_postmaster_start_time()) * 1000000 AS bigint),"
                    + " CAST(CAST(CAST('"
                    + table
                    + "' AS regclass) AS oid) AS bigint)")) {
      rs.next();
      return new long[] {rs.getLong(1), rs.getLong(2)};
    }
  }

  /** {@link #appendRow}'s condition: the entry before is there. */
  private static final long[] CHECK = new long[0];

  /**
   * Inserts one event's row, as {@code LogStore.appendOne} does, into a copy of {@code
   * audit.events}, in autocommit: with {@code server} (start time, table id) the same statement,
   * with {@link #CHECK} the one it sent until 2026-12-07, with null a plain insert.
   */
  private static void appendRow(HikariDataSource ds, String sql, long index, long[] server) {
    insertRow(ds, sql, index, server, RowInputs.of(event()));
  }

  /**
   * What a lone append binds besides its index, made from one event as the integrator makes it: the
   * canonical event, a salt, the salted commitment, the leaf and its hash.
   */
  private record RowInputs(
      byte[] leaf,
      byte[] leafHash,
      String type,
      String actor,
      String subject,
      long day,
      long micros,
      String event,
      byte[] salt) {
    static RowInputs of(AuditEvent e) {
      byte[] canonical = e.canonicalBytes();
      byte[] salt = new byte[16];
      io.yinxin.hsm.Randomness.current().nextBytes(salt);
      byte[] leaf =
          new io.yinxin.audit.evidence.Leaf(
                  e.type().name(),
                  e.time().toString(),
                  io.yinxin.audit.evidence.Leaf.commit(salt, canonical))
              .encode();
      java.time.Instant t = e.time();
      return new RowInputs(
          leaf,
          Rfc9162.leafHash(leaf),
          e.type().name(),
          e.actor(),
          e.subject(),
          Math.floorDiv(t.getEpochSecond(), 86_400L),
          Math.floorMod(t.getEpochSecond(), 86_400L) * 1_000_000L + (t.getNano() + 500) / 1_000,
          new String(canonical, java.nio.charset.StandardCharsets.UTF_8),
          salt);
    }
  }

  /** The statement {@link #appendRow} sends to {@code table} with {@code server}. */
  private static String rowSql(String table, long[] server) {
    String time =
        "TIMESTAMPTZ 'epoch' + ? * INTERVAL '86400 seconds' + ? * INTERVAL '1 microsecond'";
    return "INSERT INTO "
        + table
        + " (idx, leaf, leaf_hash, type, actor, subject, event_time, event, salt) "
        + (server == CHECK
            ? "SELECT ?, ?, ?, ?, ?, ?, "
                + time
                + ", ?, ? WHERE EXISTS (SELECT 1 FROM "
                + table
                + " WHERE idx = ?)"
            : server != null
                ? "SELECT ?, ?, ?, ?, ?, ?, "
                    + time
                    + ", ?, ? WHERE pg_postmaster_start_time() = TIMESTAMPTZ 'epoch' +"
                    + " CAST(? AS bigint) * INTERVAL '1 microsecond' AND CAST('"
                    + table
                    + "' AS regclass) = CAST(CAST(? AS bigint) AS oid) AND"
                    + " current_setting('synchronous_commit') <> 'off'"
                : "VALUES (?, ?, ?, ?, ?, ?, " + time + ", ?, ?)");
  }

  /**
   * Inserts a row with {@code sql} from {@link #rowSql}, built once per load: {@code LogStore}
   * sends a constant, and a string built per call would cost the driver's statement cache a hash of
   * it every time.
   */
  private static void insertRow(
      HikariDataSource ds, String sql, long index, long[] server, RowInputs in) {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      c.setAutoCommit(true);
      ps.setLong(1, index);
      ps.setBytes(2, in.leaf());
      ps.setBytes(3, in.leafHash());
      ps.setString(4, in.type());
      ps.setString(5, in.actor());
      ps.setString(6, in.subject());
      ps.setLong(7, in.day());
      ps.setLong(8, in.micros());
      ps.setString(9, in.event());
      ps.setBytes(10, in.salt());
      if (server == CHECK) {
        ps.setLong(11, index - 1);
      } else if (server != null) {
        ps.setLong(11, server[0]);
        ps.setLong(12, server[1]);
      }
      if (ps.executeUpdate() != 1) {
        throw new IllegalStateException("row " + index + " not written");
      }
    } catch (java.sql.SQLException ex) {
      throw new IllegalStateException(ex);
    }
  }

  private static Result load(int writers, Runnable op) throws InterruptedException {
    return load(writers, SECONDS, op);
  }

  private static Result load(int writers, int duration, Runnable op) throws InterruptedException {
    return result(List.of(run(writers, duration, op)));
  }

  private static Result result(List<Sample> samples) {
    long count = 0;
    double seconds = 0;
    int total = 0;
    for (Sample s : samples) {
      count += s.count();
      seconds += s.seconds();
      total += s.latencies().length;
    }
    double[] all = new double[total];
    int p = 0;
    for (Sample s : samples) {
      System.arraycopy(s.latencies(), 0, all, p, s.latencies().length);
      p += s.latencies().length;
    }
    Arrays.sort(all);
    return new Result(count / seconds, pct(all, 50), pct(all, 99));
  }

  private static Sample run(int writers, int duration, Runnable op) throws InterruptedException {
    long end = System.nanoTime() + duration * 1_000_000_000L;
    List<double[]> samples = new ArrayList<>();
    int[] taken = new int[writers];
    CountDownLatch done = new CountDownLatch(writers);
    AtomicLong count = new AtomicLong();
    long start = System.nanoTime();
    for (int w = 0; w < writers; w++) {
      double[] mine = new double[(int) Math.min(2_000_000L, duration * 20_000L)];
      samples.add(mine);
      int me = w;
      new Thread(
              () -> {
                int k = 0;
                while (System.nanoTime() < end) {
                  long a = System.nanoTime();
                  op.run();
                  if (k < mine.length) {
                    mine[k++] = (System.nanoTime() - a) / 1e6;
                  }
                  count.incrementAndGet();
                }
                taken[me] = k;
                done.countDown();
              })
          .start();
    }
    done.await();
    double seconds = (System.nanoTime() - start) / 1e9;
    int total = 0;
    for (int k : taken) {
      total += k;
    }
    double[] all = new double[total];
    int p = 0;
    for (int w = 0; w < writers; w++) {
      System.arraycopy(samples.get(w), 0, all, p, taken[w]);
      p += taken[w];
    }
    return new Sample(count.get(), seconds, all);
  }

  private static double pct(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  private static String row(String what, int writers, double ours, double base, String fmt) {
    return String.format(
        Locale.ROOT,
        "| %s | %d | " + fmt + " | " + fmt + " | %.2f |",
        what,
        writers,
        ours,
        base,
        ours / base);
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
