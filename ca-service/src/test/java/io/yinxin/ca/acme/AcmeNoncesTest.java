package io.yinxin.ca.acme;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.testing.TestNodes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Nonces on two nodes sharing one PostgreSQL database. */
class AcmeNoncesTest {
  static PostgresDatabase db;
  static DataSource ds;
  static AcmeStore nodeA;
  static AcmeStore nodeB;

  @BeforeAll
  static void setUp() {
    db = TestNodes.database();
    ds = TestNodes.dataSource(db);
    nodeA = new AcmeStore(CaStore.open(ds));
    nodeB = new AcmeStore(CaStore.open(ds));
  }

  @AfterAll
  static void tearDown() {
    db.close();
  }

  static AcmeNonces nonces(AcmeStore store, Clock clock) {
    return new AcmeNonces(store, store.nonceKey(), clock);
  }

  @Test
  void theSecondNodeReadsTheKeyTheFirstMade() {
    assertThat(nodeB.nonceKey()).hasSize(32).isEqualTo(nodeA.nonceKey());
  }

  @Test
  void aNonceMadeOnOneNodeIsAcceptedOnceOnAnyNode() {
    AcmeNonces a = nonces(nodeA, Clock.systemUTC());
    AcmeNonces b = nonces(nodeB, Clock.systemUTC());
    String n = a.issue();
    assertThat(b.use(n)).isTrue();
    assertThat(a.use(n)).isFalse();
    assertThat(b.use(n)).isFalse();
  }

  @Test
  void handingOutNoncesStoresNothing() throws Exception {
    AcmeNonces a = nonces(nodeA, Clock.systemUTC());
    long before = storedNonces();
    for (int i = 0; i < 1000; i++) {
      a.issue();
    }
    assertThat(storedNonces()).isEqualTo(before);
  }

  @Test
  void madeUpTamperedTruncatedAndForeignNoncesAreRefused() {
    AcmeNonces a = nonces(nodeA, Clock.systemUTC());
    String n = a.issue();
    byte[] raw = Base64.getUrlDecoder().decode(n);
    for (int i : new int[] {0, 8, 20, raw.length - 1}) {
      byte[] t = raw.clone();
      t[i] ^= 1;
      assertThat(a.use(Base64.getUrlEncoder().withoutPadding().encodeToString(t)))
          .as("octet %d flipped", i)
          .isFalse();
    }
    assertThat(a.use(n.substring(1))).isFalse();
    assertThat(a.use(n + "A")).isFalse();
    assertThat(a.use("!" + n.substring(1))).isFalse();
    assertThat(a.use("")).isFalse();
    assertThat(a.use(null)).isFalse();
    byte[] otherKey = new byte[32];
    otherKey[0] = 1;
    assertThat(new AcmeNonces(nodeA, otherKey, Clock.systemUTC()).issue())
        .satisfies(foreign -> assertThat(a.use(foreign)).isFalse());
    // the untouched nonce is still good
    assertThat(a.use(n)).isTrue();
  }

  @Test
  void anExpiredNonceIsRefusedAndPurgingKeepsUsedOnesUntilTheyExpire() throws Exception {
    Instant t0 = Instant.now();
    AcmeNonces past = nonces(nodeA, Clock.fixed(t0.minus(Duration.ofHours(2)), ZoneOffset.UTC));
    AcmeNonces now = nonces(nodeA, Clock.fixed(t0, ZoneOffset.UTC));
    assertThat(now.use(past.issue())).isFalse();
    String used = now.issue();
    assertThat(now.use(used)).isTrue();
    nodeA.purgeNonces(t0);
    assertThat(now.use(used)).as("purge keeps an unexpired used nonce").isFalse();
  }

  private static long storedNonces() throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM ca.acme_nonces")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
