package io.yinxin.audit.crash;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.EventType;
import io.yinxin.audit.Receipt;
import io.yinxin.audit.store.CheckpointPublisher;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.TileCache;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The process the crash test kills: appends from 32 threads forever, printing {@code R index
 * leafHashHex} for every receipt it was handed, and publishes checkpoints every 20 ms, printing
 * {@code C size rootHex} for each new one once it is committed (what a monitor would have fetched).
 * Arguments: JDBC URL (PostgreSQL or H2), user, key directory.
 */
public final class CrashAppender {
  private CrashAppender() {}

  public static void main(String[] args) throws Exception {
    LogStore store = open(args[0], args[1]);
    KeyServices keys = KeyServices.of(SoftKeyBackend.open(Path.of(args[2])));
    KeyRef key = KeyRef.soft("crash-checkpoint");
    try {
      keys.describe(key);
    } catch (io.yinxin.hsm.KeyException e) {
      keys.generate(KeyRef.Scheme.SOFT, io.yinxin.hsm.KeySpec.ED25519, key.label());
    }
    CheckpointPublisher publisher =
        new CheckpointPublisher(store, new TileCache(store, 4096), keys, key, "yinxin.test/crash");
    Integrator integrator = new Integrator(store, 500, 10_000);
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
    long[] lastPrinted = {-1};
    s.scheduleWithFixedDelay(
        () -> {
          long size = publisher.publish();
          if (size > lastPrinted[0]) {
            lastPrinted[0] = size;
            try (var c = store.connection()) {
              var cp = store.latestCheckpoint(c).orElseThrow();
              synchronized (out) {
                out.println("C " + cp.size() + " " + HexFormat.of().formatHex(cp.root()));
                out.flush();
              }
            } catch (java.sql.SQLException e) {
              throw new IllegalStateException(e);
            }
          }
        },
        0,
        20,
        TimeUnit.MILLISECONDS);
    out.println("STARTED");
    out.flush();
    for (int t = 0; t < 32; t++) {
      int thread = t;
      Thread w =
          new Thread(
              () -> {
                for (long n = 0; ; n++) {
                  Receipt r =
                      integrator.append(
                          AuditEvent.of(
                              EventType.KEY_USED,
                              "crash-" + thread,
                              "n-" + n,
                              Map.of("t", "" + thread)));
                  synchronized (out) {
                    out.println("R " + r.index() + " " + HexFormat.of().formatHex(r.leafHash()));
                    out.flush();
                  }
                }
              });
      w.start();
    }
    Thread.currentThread().join();
  }

  /** A connection pool as the node has (Hikari): it keeps connections, and so H2, open. */
  static LogStore open(String url, String user) {
    com.zaxxer.hikari.HikariDataSource ds = new com.zaxxer.hikari.HikariDataSource();
    ds.setJdbcUrl(url);
    ds.setUsername(user);
    ds.setMaximumPoolSize(10);
    return LogStore.open(ds);
  }
}
