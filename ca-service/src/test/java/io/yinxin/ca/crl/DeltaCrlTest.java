package io.yinxin.ca.crl;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.issue.Urls;
import io.yinxin.ca.profile.HierarchyConfig;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import io.yinxin.ca.store.CrlStore.CrlRecord;
import io.yinxin.ca.testing.TestNodes;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Set;
import javax.sql.DataSource;
import org.bouncycastle.cert.X509CRLHolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A delta CRL lists every status change its base full CRL did not see, found by sequence number,
 * never by a clock: a revocation stamped by a node whose clock is an hour behind, and one that took
 * its sequence number before the full CRL was signed but committed after it, both appear in the
 * next delta — also in the one the scheduler publishes on its own.
 */
class DeltaCrlTest {
  static PostgresDatabase db;
  static DataSource ds;
  static KeyServices keys;
  static Integrator integrator;
  static CaStore store;
  static CrlService crls;

  @BeforeAll
  static void setUp() {
    db = TestNodes.database();
    ds = TestNodes.dataSource(db);
    keys = KeyServices.of(SoftKeyBackend.open(TestNodes.dataDir("yinxin-delta-").resolve("keys")));
    integrator = new Integrator(LogStore.open(ds), 100, 1000);
    store = CaStore.open(ds);
    Hierarchy h =
        new Hierarchy(
            HierarchyConfig.defaults(),
            store,
            keys,
            KeyRef.Scheme.SOFT,
            new Urls("http://127.0.0.1:9"),
            integrator);
    h.init();
    crls =
        new CrlService(
            h,
            store,
            keys,
            integrator,
            Duration.ofHours(24),
            Duration.ofHours(1),
            Duration.ofDays(30));
  }

  @AfterAll
  static void tearDown() {
    integrator.close();
    keys.close();
    db.close();
  }

  @Test
  void aRevocationStampedAnHourInThePastIsInTheNextDeltaAndTriggersOne() throws Exception {
    issue("d0a1");
    crls.publishFull("citizen", 0);
    // Revoked by a node whose clock is an hour behind.
    store
        .certificates()
        .changeStatus(
            "citizen",
            "d0a1",
            CertificateRecord.Status.REVOKED,
            1,
            Instant.now().minus(Duration.ofHours(1)),
            (c, changed) -> {});
    assertThat(serials(crls.publishDelta("citizen", 0))).contains(new BigInteger("d0a1", 16));

    // The scheduler, too, sees the change as new and publishes a delta with it.
    issue("d0a2");
    crls.publishFull("citizen", 0);
    long before = store.crls().latestCrl("citizen", 0, true).orElseThrow().number();
    store
        .certificates()
        .changeStatus(
            "citizen",
            "d0a2",
            CertificateRecord.Status.REVOKED,
            1,
            Instant.now().minus(Duration.ofHours(1)),
            (c, changed) -> {});
    crls.tick();
    CrlRecord delta = store.crls().latestCrl("citizen", 0, true).orElseThrow();
    assertThat(delta.number()).isGreaterThan(before);
    assertThat(serials(delta)).contains(new BigInteger("d0a2", 16));
  }

  @Test
  void aRevocationCommittedAfterTheFullCrlWasSignedIsInTheNextDelta() throws Exception {
    issue("d1a1");
    issue("d1a2");
    try (Connection slow = ds.getConnection()) {
      slow.setAutoCommit(false);
      // The slow revocation takes its sequence number first, stamped a minute ago ...
      try (PreparedStatement ps =
          slow.prepareStatement(
              "INSERT INTO ca.status_changes (issuer, serial, crl_partition, status, reason,"
                  + " changed_at) VALUES ('citizen', 'd1a1', 0, 'R', 1, ?)")) {
        ps.setObject(1, OffsetDateTime.now(ZoneOffset.UTC).minusMinutes(1));
        ps.executeUpdate();
      }
      // ... a later one commits, and the full CRL is signed seeing only that one ...
      store
          .certificates()
          .changeStatus(
              "citizen", "d1a2", CertificateRecord.Status.REVOKED, 1, Instant.now(), (c, x) -> {});
      CrlRecord full = crls.publishFull("citizen", 0);
      assertThat(serials(full))
          .contains(new BigInteger("d1a2", 16))
          .doesNotContain(new BigInteger("d1a1", 16));
      // ... and then the slow one commits.
      try (PreparedStatement ps =
          slow.prepareStatement(
              "INSERT INTO ca.revoked (issuer, serial, crl_partition, revoked_at, reason)"
                  + " VALUES ('citizen', 'd1a1', 0, now(), 1)")) {
        ps.executeUpdate();
      }
      try (PreparedStatement ps =
          slow.prepareStatement(
              "UPDATE ca.certificates SET status = 'R', revoked_at = now(), reason = 1"
                  + " WHERE issuer = 'citizen' AND serial = 'd1a1'")) {
        ps.executeUpdate();
      }
      slow.commit();
    }
    assertThat(serials(crls.publishDelta("citizen", 0))).contains(new BigInteger("d1a1", 16));
  }

  static void issue(String serial) {
    store.inTransaction(
        c -> {
          store
              .certificates()
              .insertCertificate(c, TestNodes.certificateRow("citizen", serial, serial.getBytes()));
          return null;
        });
  }

  static Set<BigInteger> serials(CrlRecord crl) throws Exception {
    Set<BigInteger> out = new java.util.HashSet<>();
    for (Object e : new X509CRLHolder(crl.der()).getRevokedCertificates()) {
      out.add(((org.bouncycastle.cert.X509CRLEntryHolder) e).getSerialNumber());
    }
    return out;
  }
}
