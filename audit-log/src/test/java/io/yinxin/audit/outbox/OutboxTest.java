package io.yinxin.audit.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import io.yinxin.audit.Receipt;
import io.yinxin.audit.merkle.Rfc9162;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The transactional outbox on PostgreSQL: an event recorded in a transaction that rolls back never
 * reaches the log; one recorded in a transaction that commits reaches it exactly once, even when
 * the process that recorded it stops before integrating it; one caller's events keep its order.
 */
class OutboxTest {
  static PostgresDatabase db;
  static HikariDataSource ds;
  static LogStore store;

  @BeforeAll
  static void setUp() throws Exception {
    db = new PostgresDatabase();
    ds = new HikariDataSource();
    ds.setJdbcUrl(db.url());
    ds.setUsername(PostgresDatabase.USER);
    ds.setMaximumPoolSize(10);
    store = LogStore.open(ds);
  }

  @AfterAll
  static void tearDown() {
    ds.close();
  }

  private static AuditEvent event(String subject) {
    return AuditEvent.of(EventType.CERT_REVOKED, "outbox-test", subject, Map.of("k", "v"));
  }

  private static int entriesFor(String subject) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT count(*) FROM audit.events WHERE subject = ?")) {
      ps.setString(1, subject);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private static long leafIndexFor(String subject) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT idx FROM audit.events WHERE subject = ?")) {
      ps.setString(1, subject);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("an entry for %s", subject).isTrue();
        return rs.getLong(1);
      }
    }
  }

  /** Runs {@code work} in a transaction and commits (or rolls back when asked). */
  private static AuditOutbox.Pending inTransaction(
      AuditOutbox outbox, String subject, boolean commit) throws SQLException {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      AuditOutbox.Pending p = outbox.record(c, event(subject));
      if (commit) {
        c.commit();
      } else {
        c.rollback();
      }
      return p;
    }
  }

  @Test
  void aRolledBackChangeLeavesNoEntryAndACommittedOneExactlyOne() throws Exception {
    try (Integrator integrator = new Integrator(store, 100, 1000)) {
      inTransaction(integrator, "rolled-back", false);
      AuditOutbox.Pending kept = inTransaction(integrator, "committed", true);
      Receipt r = integrator.await(kept);
      // A later append is integrated after both: the rolled-back one had every chance.
      integrator.append(event("later"));
      assertThat(entriesFor("rolled-back")).isZero();
      assertThat(entriesFor("committed")).isEqualTo(1);
      assertThat(leafIndexFor("committed")).isEqualTo(r.index());
      try (Connection c = ds.getConnection();
          PreparedStatement ps =
              c.prepareStatement("SELECT leaf FROM audit.entries WHERE idx = ?")) {
        ps.setLong(1, r.index());
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          assertThat(Rfc9162.leafHash(rs.getBytes(1))).isEqualTo(r.leafHash());
        }
      }
    }
  }

  @Test
  void anEventCommittedByAProcessThatStoppedBeforeIntegratingItIsIntegratedOnceAfterRestart()
      throws Exception {
    Integrator died = new Integrator(store, 100, 1000);
    died.close(); // its writer is gone: nothing integrates what is recorded next
    AuditOutbox.Pending p1 = inTransaction(died, "orphan-1", true);
    AuditOutbox.Pending p2 = inTransaction(died, "orphan-2", true);
    assertThat(entriesFor("orphan-1")).isZero();

    try (Integrator restarted = new Integrator(store, 100, 1000)) {
      // The restarted node finds the rows by itself, without anyone waiting for them.
      Receipt r2 = restarted.await(p2);
      Receipt r1 = restarted.await(p1);
      assertThat(r1.index()).isLessThan(r2.index()); // committed first, logged first
      restarted.append(event("after-restart"));
    }
    assertThat(entriesFor("orphan-1")).isEqualTo(1);
    assertThat(entriesFor("orphan-2")).isEqualTo(1);
    try (Connection c = ds.getConnection();
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM audit.outbox")) {
      rs.next();
      assertThat(rs.getInt(1)).isZero();
    }
  }

  @Test
  void concurrentCallersOnTwoIntegratorsGetEachEventOnceInTheirOwnOrder() throws Exception {
    try (Integrator a = new Integrator(store, 100, 1000);
        Integrator b = new Integrator(store, 100, 1000)) {
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<List<Receipt>>> callers = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        AuditOutbox outbox = t % 2 == 0 ? a : b;
        String caller = "caller-" + t;
        callers.add(
            pool.submit(
                () -> {
                  List<Receipt> mine = new ArrayList<>();
                  for (int i = 0; i < 25; i++) {
                    mine.add(outbox.await(inTransaction(outbox, caller + "-" + i, true)));
                  }
                  return mine;
                }));
      }
      for (int t = 0; t < 8; t++) {
        List<Receipt> mine = callers.get(t).get();
        for (int i = 1; i < mine.size(); i++) {
          assertThat(mine.get(i).index()).isGreaterThan(mine.get(i - 1).index());
        }
        for (int i = 0; i < 25; i++) {
          assertThat(entriesFor("caller-" + t + "-" + i)).isEqualTo(1);
          assertThat(leafIndexFor("caller-" + t + "-" + i)).isEqualTo(mine.get(i).index());
        }
      }
      pool.shutdown();
    }
  }
}
