package io.yinxin.ca.revoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.testing.TestNodes;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two nodes on one PostgreSQL: node A revokes, node B follows the status feed. B's OCSP cache is
 * told and B's key filter refuses the key on B's next poll — when A's commit comes after a later
 * change's, when A's clock is 30 s behind, and after a poll of B's failed.
 */
class StatusFeedTest {
  static PostgresDatabase db;
  static DataSource ds;
  static CaStore nodeA;
  static Integrator audit;
  static final AtomicBoolean bFails = new AtomicBoolean();
  static CaStore nodeB;

  @BeforeAll
  static void setUp() {
    db = TestNodes.database();
    ds = TestNodes.dataSource(db);
    nodeA = CaStore.open(ds);
    nodeB = CaStore.open(failing(ds));
    audit = new Integrator(LogStore.open(ds), 100, 1000);
  }

  @AfterAll
  static void tearDown() {
    audit.close();
  }

  /** B's database connection, which refuses to open while {@link #bFails} is set. */
  static DataSource failing(DataSource real) {
    return (DataSource)
        Proxy.newProxyInstance(
            StatusFeedTest.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, m, args) -> {
              if (m.getName().equals("getConnection") && bFails.get()) {
                throw new SQLException("database unreachable (test)");
              }
              try {
                return m.invoke(real, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  /** Node B: a feed, a key filter loaded after it, and the OCSP invalidations it would make. */
  record NodeB(StatusFeed feed, RevokedKeys keys, List<String> invalidated) {}

  static NodeB startNodeB() {
    StatusFeed feed = new StatusFeed(nodeB, Duration.ofMinutes(10));
    RevokedKeys keys = RevokedKeys.load(nodeB);
    keys.follow(feed);
    List<String> invalidated = new CopyOnWriteArrayList<>();
    feed.follow(ch -> invalidated.add(ch.issuer() + "/" + ch.serial()));
    return new NodeB(feed, keys, invalidated);
  }

  @Test
  void aRevocationWhoseCommitComesAfterALaterChangeIsStillSeen() throws Exception {
    byte[] slowKey = key("slow");
    byte[] fastKey = key("fast");
    nodeA.inTransaction(
        c -> {
          insert(c, "a1", slowKey);
          insert(c, "a2", fastKey);
          return null;
        });
    NodeB b = startNodeB();
    RevocationService a = new RevocationService(nodeA, audit);
    try (Connection slow = ds.getConnection()) {
      slow.setAutoCommit(false);
      // The slow revocation takes its sequence number first and commits last.
      statusChange(slow, "a1", Instant.now());
      a.revoke("op", "feed-ca", "a2", "keyCompromise");
      b.feed().poll();
      assertThat(b.keys().wasRevoked(fastKey)).isTrue();
      assertThat(b.invalidated()).contains("feed-ca/a2").doesNotContain("feed-ca/a1");
      markRevoked(slow, "a1");
      slow.commit();
    }
    b.feed().poll();
    assertThat(b.invalidated()).contains("feed-ca/a1");
    assertThat(b.keys().wasRevoked(slowKey)).isTrue();
  }

  @Test
  void aRevocationStampedByANodeWhoseClockIs30SecondsBehindIsSeen() throws Exception {
    byte[] k = key("skewed");
    nodeA.inTransaction(c -> insert(c, "b1", k));
    NodeB b = startNodeB();
    b.feed().poll();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      statusChange(c, "b1", Instant.now().minusSeconds(30));
      markRevoked(c, "b1");
      c.commit();
    }
    b.feed().poll();
    assertThat(b.invalidated()).contains("feed-ca/b1");
    assertThat(b.keys().wasRevoked(k)).isTrue();
  }

  @Test
  void aRevocationCommittedWhileAPollFailedIsSeenByTheNextPoll() throws Exception {
    byte[] k = key("outage");
    nodeA.inTransaction(c -> insert(c, "c1", k));
    NodeB b = startNodeB();
    bFails.set(true);
    try {
      new RevocationService(nodeA, audit).revoke("op", "feed-ca", "c1", "keyCompromise");
      assertThatThrownBy(() -> b.feed().poll()).isInstanceOf(RuntimeException.class);
    } finally {
      bFails.set(false);
    }
    assertThat(b.invalidated()).isEmpty();
    b.feed().poll();
    assertThat(b.invalidated()).containsExactly("feed-ca/c1");
    assertThat(b.keys().wasRevoked(k)).isTrue();
  }

  @Test
  void aGapThatNeverFillsIsClosedAfterTheTimeoutAndTheWatermarkMovesOn() throws Exception {
    nodeA.inTransaction(
        c -> {
          insert(c, "d1", key("d1"));
          insert(c, "d2", key("d2"));
          return null;
        });
    long[] now = {0};
    StatusFeed feed = new StatusFeed(nodeB, Duration.ofSeconds(60), () -> now[0]);
    long start = feed.watermark();
    try (Connection rolledBack = ds.getConnection()) {
      rolledBack.setAutoCommit(false);
      statusChange(rolledBack, "d1", Instant.now());
      new RevocationService(nodeA, audit).revoke("op", "feed-ca", "d2", "superseded");
      rolledBack.rollback();
    }
    assertThat(feed.poll()).isEqualTo(1);
    assertThat(feed.watermark()).isEqualTo(start); // the gap holds it
    now[0] += Duration.ofSeconds(61).toNanos();
    feed.poll();
    assertThat(feed.watermark()).isEqualTo(start + 2);
  }

  private static void statusChange(Connection c, String serial, Instant changedAt)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO ca.status_changes (issuer, serial, crl_partition, status, reason,"
                + " changed_at) VALUES ('feed-ca', ?, 0, 'R', 1, ?)")) {
      ps.setString(1, serial);
      ps.setObject(2, OffsetDateTime.ofInstant(changedAt, ZoneOffset.UTC));
      ps.executeUpdate();
    }
  }

  private static void markRevoked(Connection c, String serial) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE ca.certificates SET status = 'R', revoked_at = now(), reason = 1"
                + " WHERE issuer = 'feed-ca' AND serial = ?")) {
      ps.setString(1, serial);
      ps.executeUpdate();
    }
  }

  private static Void insert(Connection c, String serial, byte[] keySha256) throws SQLException {
    nodeA
        .certificates()
        .insertCertificate(c, TestNodes.certificateRow("feed-ca", serial, keySha256));
    return null;
  }

  private static byte[] key(String name) {
    try {
      return MessageDigest.getInstance("SHA-256")
          .digest(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
