package io.yinxin.ca.revoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.EventType;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.CaException;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import io.yinxin.ca.testing.TestNodes;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
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
 * A revocation and its audit event are one unit: with a pool of 10 connections, 100 concurrent
 * revocations all succeed with exactly one entry each (no audit call holds a connection inside a
 * revocation), and a revocation that fails leaves no entry claiming it.
 */
class RevocationEvidenceTest {
  static PostgresDatabase db;
  static HikariDataSource ds;
  static CaStore store;
  static Integrator integrator;

  @BeforeAll
  static void setUp() {
    db = TestNodes.database();
    ds = new HikariDataSource();
    ds.setJdbcUrl(db.url());
    ds.setUsername(PostgresDatabase.USER);
    ds.setMaximumPoolSize(10);
    ds.setConnectionTimeout(30_000);
    store = CaStore.open(ds);
    integrator = new Integrator(LogStore.open(ds), 100, 1000);
  }

  @AfterAll
  static void tearDown() {
    integrator.close();
    ds.close();
  }

  @Test
  void hundredConcurrentRevocationsOnAPoolOfTenEachLeaveExactlyOneEntry() throws Exception {
    store.inTransaction(
        c -> {
          for (int i = 0; i < 100; i++) {
            insert(c, "c" + i);
          }
          return null;
        });
    RevocationService revocations = new RevocationService(store, integrator);
    ExecutorService pool = Executors.newFixedThreadPool(100);
    List<Future<CertificateRecord>> done = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      String serial = "c" + i;
      done.add(pool.submit(() -> revocations.revoke("op", "ev-ca", serial, "keyCompromise")));
    }
    for (Future<CertificateRecord> f : done) {
      assertThat(f.get().status()).isEqualTo(CertificateRecord.Status.REVOKED);
    }
    pool.shutdown();
    for (int i = 0; i < 100; i++) {
      assertThat(entries("ev-ca/c" + i)).as("entries for c%d", i).isEqualTo(1);
    }
  }

  @Test
  void aRevocationThatFailsLeavesNoEntryClaimingIt() throws Exception {
    store.inTransaction(c -> insert(c, "f1"));
    RevocationService revocations = new RevocationService(store, integrator);
    revocations.revoke("op", "ev-ca", "f1", "superseded");
    assertThatThrownBy(() -> revocations.revoke("op", "ev-ca", "f1", "keyCompromise"))
        .isInstanceOf(CaException.class)
        .extracting(e -> ((CaException) e).code())
        .isEqualTo(CaException.Code.CONFLICT);

    store.inTransaction(c -> insert(c, "f2"));
    Instant at = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    // The evidence is recorded, then the transaction fails: neither the change nor its entry stay.
    assertThatThrownBy(
            () ->
                store
                    .certificates()
                    .changeStatus(
                        "ev-ca",
                        "f2",
                        CertificateRecord.Status.REVOKED,
                        1,
                        at,
                        (c, row) -> {
                          integrator.record(
                              c, AuditEvent.of(EventType.CERT_REVOKED, "op", "ev-ca/f2", Map.of()));
                          throw new SQLException("storage failed after the event was recorded");
                        }))
        .isInstanceOf(RuntimeException.class);
    integrator.append(AuditEvent.of(EventType.KEY_USED, "op", "after", Map.of()));
    assertThat(entries("ev-ca/f1")).isEqualTo(1);
    assertThat(entries("ev-ca/f2")).isZero();
    assertThat(store.certificates().certificate("ev-ca", "f2").orElseThrow().status())
        .isEqualTo(CertificateRecord.Status.VALID);
  }

  private static int entries(String subject) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM audit.events WHERE subject = ? AND type = 'CERT_REVOKED'")) {
      ps.setString(1, subject);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private static Void insert(Connection c, String serial) throws SQLException {
    store
        .certificates()
        .insertCertificate(c, TestNodes.certificateRow("ev-ca", serial, new byte[32]));
    return null;
  }
}
