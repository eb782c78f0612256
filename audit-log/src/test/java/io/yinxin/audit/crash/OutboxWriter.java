package io.yinxin.audit.crash;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import io.yinxin.audit.client.HttpAuditLog;
import io.yinxin.audit.client.OutboxRelay;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The process {@link OutboxCrashTest} kills: four writers each make a change (a row in {@code
 * outbox_changes}) and record its event through the outbox in the same transaction; every fifth
 * transaction rolls back. After each commit it prints {@code C subject}, after each rollback {@code
 * X subject}, after each receipt {@code A subject}. After the given number of commits it stops its
 * integrator (or relay), commits five more changes that therefore cannot have reached the log,
 * prints {@code FROZEN}, and waits to be killed: the kill falls between those commits and their
 * integration for certain, while the writers are still busy.
 *
 * <p>Arguments: mode ({@code local}: the log is in this database, integrated here; {@code relay}:
 * forwarded to the log at the URL in the fifth argument, token in {@code YINXIN_AUDIT_TOKEN}), JDBC
 * URL, user, commits before freezing[, log URL].
 */
public final class OutboxWriter {
  private OutboxWriter() {}

  public static void main(String[] args) throws Exception {
    HikariDataSource ds = dataSource(args[1], args[2]);
    AuditOutbox outbox =
        args[0].equals("local")
            ? new Integrator(LogStore.open(ds), 500, 10_000)
            : OutboxRelay.open(
                ds,
                new HttpAuditLog(args[4], System.getenv("YINXIN_AUDIT_TOKEN").toCharArray()),
                Duration.ofMillis(200));
    int freezeAt = Integer.parseInt(args[3]);
    AtomicInteger commits = new AtomicInteger();
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    out.println("STARTED");
    out.flush();
    for (int t = 0; t < 4; t++) {
      int writer = t;
      Thread w =
          new Thread(
              () -> {
                for (int seq = 0; ; seq++) {
                  String subject = "w" + writer + "-" + seq;
                  boolean rollBack = seq % 5 == 4;
                  try (Connection c = ds.getConnection()) {
                    c.setAutoCommit(false);
                    try (PreparedStatement ps =
                        c.prepareStatement(
                            "INSERT INTO public.outbox_changes (subject) VALUES (?)")) {
                      ps.setString(1, subject);
                      ps.executeUpdate();
                    }
                    AuditOutbox.Pending p = outbox.record(c, event(subject));
                    if (rollBack) {
                      c.rollback();
                      print(out, "X " + subject);
                      continue;
                    }
                    c.commit();
                    if (!args[1].startsWith("jdbc:postgresql:")) {
                      try (var s = c.createStatement()) {
                        s.execute("CHECKPOINT SYNC"); // as the modules' stores do on H2
                      }
                    }
                    print(out, "C " + subject);
                    if (commits.incrementAndGet() == freezeAt) {
                      freeze(outbox, ds, out);
                    }
                    outbox.await(p);
                    print(out, "A " + subject);
                  } catch (Exception e) {
                    print(out, "E " + subject + " " + e.getClass().getSimpleName());
                  }
                }
              });
      w.start();
    }
    Thread.currentThread().join();
  }

  /** Stops integrating, then commits five changes the log cannot have. */
  private static void freeze(AuditOutbox outbox, HikariDataSource ds, PrintStream out)
      throws Exception {
    ((AutoCloseable) outbox).close();
    for (int i = 0; i < 5; i++) {
      String subject = "w9-" + i;
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        try (PreparedStatement ps =
            c.prepareStatement("INSERT INTO public.outbox_changes (subject) VALUES (?)")) {
          ps.setString(1, subject);
          ps.executeUpdate();
        }
        outbox.record(c, event(subject));
        c.commit();
        if (!ds.getJdbcUrl().startsWith("jdbc:postgresql:")) {
          try (var s = c.createStatement()) {
            s.execute("CHECKPOINT SYNC");
          }
        }
        print(out, "C " + subject);
      }
    }
    print(out, "FROZEN");
  }

  static AuditEvent event(String subject) {
    return AuditEvent.of(EventType.CERT_REVOKED, "outbox-crash", subject, Map.of("k", "v"));
  }

  static HikariDataSource dataSource(String url, String user) {
    HikariDataSource ds = new HikariDataSource();
    ds.setJdbcUrl(url);
    ds.setUsername(user);
    ds.setMaximumPoolSize(10);
    return ds;
  }

  private static void print(PrintStream out, String line) {
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }
}
