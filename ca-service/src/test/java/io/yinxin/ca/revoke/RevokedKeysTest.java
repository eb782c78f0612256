package io.yinxin.ca.revoke;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.AuditLog;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.testing.TestNodes;
import java.security.MessageDigest;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RevokedKeysTest {
  static PostgresDatabase db;
  static CaStore store;
  static Integrator integrator;
  static AuditLog audit;

  @BeforeAll
  static void setUp() {
    db = TestNodes.database();
    javax.sql.DataSource ds = TestNodes.dataSource(db);
    store = CaStore.open(ds);
    integrator = new Integrator(LogStore.open(ds), 100, 1000);
    audit = integrator::append;
  }

  @AfterAll
  static void tearDown() {
    integrator.close();
    db.close();
  }

  @Test
  void keysRevokedBeforeStartHereAndOnOtherNodesAreFoundAndOthersAreNot() throws Exception {
    RevocationService here = new RevocationService(store, integrator);
    RevocationService otherNode = new RevocationService(store, integrator);
    byte[] before = key("before");
    store.inTransaction(c -> insert(c, "a1", before));
    here.revoke("op", "rk-ca", "a1", "keyCompromise");

    StatusFeed feed = new StatusFeed(store, java.time.Duration.ofMinutes(10));
    RevokedKeys keys = RevokedKeys.load(store);
    keys.follow(here);
    keys.follow(feed);
    assertThat(keys.wasRevoked(before)).isTrue();

    byte[] local = key("local");
    byte[] remote = key("remote");
    byte[] held = key("held");
    byte[] fine = key("fine");
    store.inTransaction(
        c -> {
          insert(c, "a2", local);
          insert(c, "a3", remote);
          insert(c, "a4", held);
          insert(c, "a5", fine);
          return null;
        });
    here.revoke("op", "rk-ca", "a2", "superseded");
    assertThat(keys.wasRevoked(local)).isTrue(); // at once, no poll

    otherNode.revoke("op", "rk-ca", "a3", "keyCompromise");
    here.revoke("op", "rk-ca", "a4", "certificateHold");
    feed.poll();
    assertThat(keys.wasRevoked(remote)).isTrue();
    assertThat(keys.wasRevoked(held)).isFalse(); // hold is not revocation
    assertThat(keys.wasRevoked(fine)).isFalse();
  }

  @Test
  void theFilterAloneAnswersForAlmostEveryKeyThatWasNeverRevoked() {
    RevokedKeys keys = RevokedKeys.load(store);
    SplittableRandom random = new SplittableRandom(42);
    byte[] h = new byte[32];
    for (int i = 0; i < 50_000; i++) {
      random.nextBytes(h);
      keys.add(h.clone());
    }
    int hits = 0;
    for (int i = 0; i < 100_000; i++) {
      random.nextBytes(h);
      if (keys.mightBeRevoked(h)) {
        hits++;
      }
    }
    // 50,000 keys in a filter sized for a million: false positives are rare (each costs a query)
    assertThat(hits).isLessThan(100);
  }

  private static Void insert(java.sql.Connection c, String serial, byte[] keySha256)
      throws java.sql.SQLException {
    store.certificates().insertCertificate(c, TestNodes.certificateRow("rk-ca", serial, keySha256));
    return null;
  }

  private static byte[] key(String name) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(name.getBytes());
  }
}
