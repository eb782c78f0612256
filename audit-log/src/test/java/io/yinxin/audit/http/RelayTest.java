package io.yinxin.audit.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import io.yinxin.audit.Receipt;
import io.yinxin.audit.client.HttpAuditLog;
import io.yinxin.audit.client.OutboxRelay;
import io.yinxin.audit.crash.OutboxCrashTestSupport;
import io.yinxin.audit.store.PostgresDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A node without the log (its own PostgreSQL database) records its evidence through {@link
 * OutboxRelay}, which forwards it to this log over HTTP: rolled-back changes never reach the log,
 * committed ones exactly once — also when the relaying process is SIGKILLed mid-way and a new relay
 * resends what it had sent — and each writer's in its commit order.
 */
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RelayTest {
  static final PostgresDatabase LOG_DB = database();
  static final PostgresDatabase NODE_DB = database();
  static final String WRITER = "writer-" + java.util.UUID.randomUUID();
  static final HikariDataSource NODE = pool(NODE_DB);
  static final String DATA = tempDir();

  static String tempDir() {
    try {
      return java.nio.file.Files.createTempDirectory("yinxin-relay-").toString();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static PostgresDatabase database() {
    try {
      return new PostgresDatabase();
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("PostgreSQL must run on 127.0.0.1:5432", e);
    }
  }

  static HikariDataSource pool(PostgresDatabase db) {
    HikariDataSource ds = new HikariDataSource();
    ds.setJdbcUrl(db.url());
    ds.setUsername(PostgresDatabase.USER);
    ds.setMaximumPoolSize(10);
    return ds;
  }

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    r.add("spring.datasource.url", LOG_DB::url);
    r.add("spring.datasource.username", () -> PostgresDatabase.USER);
    r.add("spring.flyway.enabled", () -> "false");
    r.add("yinxin.data-dir", () -> DATA);
    r.add("yinxin.audit.origin", () -> "yinxin.test/relay");
    String writerHash = sha256Hex(WRITER);
    r.add("yinxin.audit.writer-token-sha256", () -> writerHash);
  }

  @AfterAll
  static void tearDown() {
    NODE.close();
  }

  @LocalServerPort int port;
  @Autowired DataSource logDb;

  String base() {
    return "http://127.0.0.1:" + port;
  }

  HttpAuditLog remote() {
    return new HttpAuditLog(base(), WRITER.toCharArray());
  }

  @Test
  void theSameIdempotencyKeySentTwiceMakesOneEntryAndGetsTheSameReceipt() throws Exception {
    String body = HttpAuditLog.body(event("idem-1"));
    Receipt first = remote().appendOnce(body, "relay-test-idem-1");
    Receipt again = remote().appendOnce(body, "relay-test-idem-1");
    assertThat(again.index()).isEqualTo(first.index());
    assertThat(again.leafHash()).isEqualTo(first.leafHash());
    assertThat(entriesFor("idem-1")).isEqualTo(1);
    assertThatThrownBy(() -> remote().appendOnce(body, "no spaces allowed"))
        .isInstanceOfSatisfying(
            AuditException.class,
            e -> assertThat(e.code()).isEqualTo(AuditException.Code.INVALID_EVENT));
    assertThat(entriesFor("idem-1")).isEqualTo(1);
  }

  @Test
  void aRolledBackChangeIsNeverRelayedAndACommittedOneIsRelayedOnceInOrder() throws Exception {
    try (OutboxRelay relay = OutboxRelay.open(NODE, remote(), Duration.ofMillis(200))) {
      try (Connection c = NODE.getConnection()) {
        c.setAutoCommit(false);
        relay.record(c, event("rolled-back"));
        c.rollback();
      }
      AuditOutbox.Pending[] pending = new AuditOutbox.Pending[3];
      for (int i = 0; i < 3; i++) {
        try (Connection c = NODE.getConnection()) {
          c.setAutoCommit(false);
          pending[i] = relay.record(c, event("committed-" + i));
          c.commit();
        }
      }
      long previous = -1;
      for (int i = 0; i < 3; i++) {
        Receipt r = relay.await(pending[i]);
        assertThat(r.index()).isGreaterThan(previous);
        previous = r.index();
        assertThat(leafHashAt(r.index())).isEqualTo(r.leafHash());
        assertThat(entriesFor("committed-" + i)).isEqualTo(1);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> relay.backlog() == 0);
      assertThat(entriesFor("rolled-back")).isZero();
    }
  }

  @Test
  void aRelayingProcessKilledMidWayLosesAndDuplicatesNothing() throws Exception {
    OutboxCrashTestSupport.createChangesTable(NODE);
    OutboxCrashTestSupport.Outcome outcome =
        OutboxCrashTestSupport.runAndKill(
            List.of("relay", NODE_DB.url(), PostgresDatabase.USER, base()),
            Map.of("YINXIN_AUDIT_TOKEN", WRITER),
            300);
    try (OutboxRelay restarted = OutboxRelay.open(NODE, remote(), Duration.ofMillis(100))) {
      assertThat(restarted.backlog())
          .as("committed rows the killed relay had not forwarded: the kill fell in between")
          .isGreaterThanOrEqualTo(5);
      await().atMost(Duration.ofSeconds(60)).until(() -> restarted.backlog() == 0);
      OutboxCrashTestSupport.verify(outcome, NODE, logDb);
    }
  }

  @Test
  void aNodeWithoutTheLogGetsTheRelayAsItsOutboxAndItsEvidenceReachesTheLog() throws Exception {
    java.nio.file.Path token =
        java.nio.file.Files.createTempFile(java.nio.file.Path.of(DATA), "w", "");
    java.nio.file.Files.writeString(token, WRITER);
    String firstKey;
    try (var node = nodeWithoutTheLog(token)) {
      String stored = relayThroughTheNode(node, "from-a-node-without-the-log", "张三");
      firstKey = stored.substring(4, stored.indexOf(':', 4));
      // Making the data key, wrapping the event key under it, and this test's own unwrapping are
      // recorded in the remote log.
      assertThat(entriesFor("soft:audit-relay-events")).isEqualTo(3);
    }
    // Restarted on the same database: the same event key, unwrapped (recorded) rather than made.
    try (var node = nodeWithoutTheLog(token)) {
      String stored = relayThroughTheNode(node, "after-a-restart", "李四");
      assertThat(stored.substring(4, stored.indexOf(':', 4))).isEqualTo(firstKey);
      // The restarted node's unwrapping, and this test's.
      assertThat(entriesFor("soft:audit-relay-events")).isEqualTo(5);
    }
  }

  org.springframework.context.ConfigurableApplicationContext nodeWithoutTheLog(
      java.nio.file.Path token) {
    return new org.springframework.boot.builder.SpringApplicationBuilder(TestApp.class)
        .web(org.springframework.boot.WebApplicationType.NONE)
        .properties(
            "spring.datasource.url=" + NODE_DB.url(),
            "spring.datasource.username=" + PostgresDatabase.USER,
            "spring.flyway.enabled=false",
            "yinxin.data-dir=" + DATA,
            "yinxin.audit.enabled=false",
            "yinxin.audit.remote.url=" + base(),
            "yinxin.audit.remote.token-file=" + token)
        .run();
  }

  /**
   * Records an event carrying a name through the node's outbox and waits for its receipt; checks
   * that the row waited encrypted — opened here by hand from the documented format, with the event
   * key unwrapped through the node's key service — and reached the log once.
   *
   * @return the row as stored
   */
  String relayThroughTheNode(
      org.springframework.context.ConfigurableApplicationContext node, String subject, String name)
      throws Exception {
    AuditOutbox outbox = node.getBean(AuditOutbox.class);
    assertThat(outbox).isInstanceOf(OutboxRelay.class);
    DataSource nodeDb = node.getBean(DataSource.class);
    AuditEvent event =
        AuditEvent.of(EventType.REALNAME_RELEASED, "relay-test", subject, Map.of("name", name));
    AuditOutbox.Pending p;
    try (Connection c = nodeDb.getConnection()) {
      c.setAutoCommit(false);
      p = outbox.record(c, event);
      c.commit();
    }
    Receipt r = outbox.await(p);
    assertThat(leafHashAt(r.index())).isEqualTo(r.leafHash());
    assertThat(entriesFor(subject)).isEqualTo(1);

    String idemKey;
    String stored;
    try (Connection c = nodeDb.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT idem_key, event FROM audit_relay.outbox WHERE id = ?")) {
      ps.setLong(1, p.id());
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        idemKey = rs.getString(1);
        stored = rs.getString(2);
      }
    }
    assertThat(stored)
        .startsWith("enc:")
        .doesNotContain(subject)
        .doesNotContain(name)
        .doesNotContain("REALNAME_RELEASED")
        .doesNotContain("attributes");
    String keyId = stored.substring(4, stored.indexOf(':', 4));
    byte[] eventKey;
    try (Connection c = nodeDb.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT key_ref, wrapped FROM audit_relay.wrapped_keys WHERE id = ?")) {
      ps.setString(1, keyId);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("soft:audit-relay-events");
        eventKey =
            node.getBean(io.yinxin.hsm.KeyServices.class)
                .decrypt(
                    io.yinxin.hsm.KeyRef.parse(rs.getString(1)),
                    rs.getBytes(2),
                    ("audit_relay.wrapped_keys/" + keyId)
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    "test");
      }
    }
    String opened =
        io.yinxin.audit.store.EventEncryptionTest.openByHand(
            eventKey, stored, idemKey.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(opened).isEqualTo(HttpAuditLog.body(event));
    return stored;
  }

  static AuditEvent event(String subject) {
    return AuditEvent.of(EventType.CERT_REVOKED, "relay-test", subject, Map.of("k", "v"));
  }

  int entriesFor(String subject) throws Exception {
    try (Connection c = logDb.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT count(*) FROM audit.events WHERE subject = ?")) {
      ps.setString(1, subject);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  byte[] leafHashAt(long index) throws Exception {
    try (Connection c = logDb.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT leaf_hash FROM audit.entries WHERE idx = ?")) {
      ps.setLong(1, index);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getBytes(1);
      }
    }
  }

  static String sha256Hex(String s) throws Exception {
    return java.util.HexFormat.of()
        .formatHex(
            java.security.MessageDigest.getInstance("SHA-256")
                .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }
}
