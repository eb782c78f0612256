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
    try (var node =
        new org.springframework.boot.builder.SpringApplicationBuilder(TestApp.class)
            .web(org.springframework.boot.WebApplicationType.NONE)
            .properties(
                "spring.datasource.url=" + NODE_DB.url(),
                "spring.datasource.username=" + PostgresDatabase.USER,
                "spring.flyway.enabled=false",
                "yinxin.data-dir=" + DATA,
                "yinxin.audit.enabled=false",
                "yinxin.audit.remote.url=" + base(),
                "yinxin.audit.remote.token-file=" + token)
            .run()) {
      AuditOutbox outbox = node.getBean(AuditOutbox.class);
      assertThat(outbox).isInstanceOf(OutboxRelay.class);
      DataSource nodeDb = node.getBean(DataSource.class);
      AuditOutbox.Pending p;
      try (Connection c = nodeDb.getConnection()) {
        c.setAutoCommit(false);
        p = outbox.record(c, event("from-a-node-without-the-log"));
        c.commit();
      }
      Receipt r = outbox.await(p);
      assertThat(leafHashAt(r.index())).isEqualTo(r.leafHash());
      assertThat(entriesFor("from-a-node-without-the-log")).isEqualTo(1);
    }
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
