package io.yinxin.audit.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.EventType;
import io.yinxin.audit.Receipt;
import io.yinxin.audit.evidence.Leaf;
import io.yinxin.audit.spring.KeyUseAuditListener;
import io.yinxin.hsm.DataKeySpec;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Private event rows encrypted at rest, on PostgreSQL and on H2 (the embedded default): no row and
 * no outbox row holds an event in clear; the rows decrypt — by this test, from the documented
 * format with the event key unwrapped through the key service, not through {@link EventCipher} — to
 * exactly what the public leaves commit to; a restart unwraps the same key and reads everything;
 * rows written in clear before stay readable; a ciphertext moved to another row or changed is
 * reported by the self-check and refused in a bundle; the creation of the data key is recorded
 * (encrypted) while the event key is being made.
 */
public class EventEncryptionTest {
  private static final String NAME = "张三";
  private static final String ID_NUMBER = "11010519491231002X";

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void eventRowsAreCiphertextThatOpensToWhatTheLeavesCommitTo(String database) throws Exception {
    try (Db db = Db.of(database)) {
      Path keyDir = Files.createTempDirectory("yinxin-event-keys-");
      KeyRef dataKey = KeyRef.soft("audit-events");

      // Written in clear before encryption is switched on.
      LogStore clear = LogStore.open(db.ds());
      Receipt before;
      try (Integrator integrator = new Integrator(clear, 100, 1000)) {
        before = integrator.append(event("before"));
      }

      List<Receipt> receipts = new ArrayList<>();
      String keyId;
      try (Node node = Node.start(db.ds(), keyDir, dataKey)) {
        assertThat(node.store.cipher().keyUse())
            .containsEntry("eventKeyUse", "created")
            .containsEntry("eventKeyWrappedBy", dataKey.toString());
        keyId = node.store.cipher().keyUse().get("eventKey");
        // The data key's creation was appended while the event key was being made: encrypted.
        assertThat(rows(db.ds(), "KEY_GENERATED")).hasSize(1).allMatch(r -> r.startsWith("enc:"));
        for (int i = 0; i < 20; i++) {
          receipts.add(node.integrator.append(event("e" + i)));
        }
        // An event recorded through the outbox is encrypted while it waits there.
        try (Connection c = db.ds().getConnection()) {
          c.setAutoCommit(false);
          AuditOutboxPending p = new AuditOutboxPending(node.integrator.record(c, event("outbox")));
          try (var rs =
              c.createStatement()
                  .executeQuery("SELECT event FROM audit.outbox WHERE id = " + p.id)) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).startsWith("enc:" + keyId + ":").doesNotContain(NAME);
          }
          c.commit();
          receipts.add(node.integrator.await(p.pending));
        }
      }

      // Nothing in clear: not the name, not the ID number, not the attribute names.
      try (Connection c = db.ds().getConnection();
          ResultSet rs =
              c.createStatement()
                  .executeQuery("SELECT idx, event, salt FROM audit.events ORDER BY idx")) {
        int encrypted = 0;
        while (rs.next()) {
          String stored = rs.getString(2);
          if (rs.getLong(1) == before.index()) {
            assertThat(stored).startsWith("{").contains(NAME);
            continue;
          }
          assertThat(stored).startsWith("enc:" + keyId + ":");
          assertThat(stored)
              .doesNotContain(NAME)
              .doesNotContain(ID_NUMBER)
              .doesNotContain("idNumber");
          encrypted++;
        }
        assertThat(encrypted).isGreaterThanOrEqualTo(22);
      }

      // Opened by hand from the documented format, the rows are what the leaves commit to.
      KeyServices keys = keys(keyDir, null);
      byte[] eventKey = unwrap(db.ds(), keys, keyId);
      for (Receipt r : receipts) {
        Row row = row(db.ds(), r.index());
        String plain = openByHand(eventKey, row.event(), row.salt());
        assertThat(plain).contains(NAME).contains(ID_NUMBER);
        assertThat(
                Leaf.decode(row.leaf())
                    .commitsTo(row.salt(), plain.getBytes(StandardCharsets.UTF_8)))
            .isTrue();
      }

      // A restart unwraps the same key; every row, the clear one included, reads back.
      try (Node node = Node.start(db.ds(), keyDir, dataKey)) {
        assertThat(node.store.cipher().keyUse())
            .containsEntry("eventKeyUse", "unwrapped")
            .containsEntry("eventKey", keyId);
        Receipt after = node.integrator.append(event("after"));
        assertThat(row(db.ds(), after.index()).event()).startsWith("enc:" + keyId + ":");
        try (Connection c = db.ds().getConnection()) {
          List<LogStore.StoredEvent> all = node.store.eventsBetween(c, 0, after.index() + 1);
          assertThat(all).hasSize((int) after.index() + 1).allMatch(e -> e.event() != null);
          assertThat(all.get((int) before.index()).event()).contains("before");
        }
        assertThat(problems(node.store)).isEmpty();

        // A ciphertext moved into another row does not open there (the salt is bound to it).
        Receipt a = receipts.get(0);
        Receipt b = receipts.get(1);
        String original = row(db.ds(), b.index()).event();
        update(db.ds(), b.index(), row(db.ds(), a.index()).event());
        assertThat(problems(node.store)).anyMatch(p -> p.contains("event " + b.index()));
        try (Connection c = db.ds().getConnection()) {
          assertThat(node.store.eventsBetween(c, b.index(), b.index() + 1).get(0).event()).isNull();
        }
        // One bit of a ciphertext changed (decoded, flipped, encoded again): the same.
        int cut = original.indexOf(':', 4) + 1;
        byte[] bytes = Base64.getDecoder().decode(original.substring(cut));
        bytes[bytes.length / 2] ^= 1;
        update(
            db.ds(),
            b.index(),
            original.substring(0, cut) + Base64.getEncoder().encodeToString(bytes));
        assertThat(problems(node.store)).anyMatch(p -> p.contains("event " + b.index()));
        assertThatThrownBy(
                () -> node.store.openEvent(row(db.ds(), b.index()).event(), new byte[16]))
            .isInstanceOf(AuditException.class)
            .hasMessageNotContaining(NAME);
        update(db.ds(), b.index(), original);
        assertThat(problems(node.store)).isEmpty();
      }
    }
  }

  /** The outbox's pending handle with its row id, for the test's look at the outbox row. */
  private record AuditOutboxPending(io.yinxin.audit.AuditOutbox.Pending pending, long id) {
    AuditOutboxPending(io.yinxin.audit.AuditOutbox.Pending pending) {
      this(pending, pending.id());
    }
  }

  private static AuditEvent event(String n) {
    return AuditEvent.of(
        EventType.REALNAME_RELEASED,
        "sso",
        "account-" + n,
        Map.of("name", NAME, "idNumber", ID_NUMBER, "n", n));
  }

  /** A node: key service with the audit listener, an encrypted store, its integrator. */
  private record Node(KeyServices keys, LogStore store, Integrator integrator)
      implements AutoCloseable {
    static Node start(DataSource ds, Path keyDir, KeyRef dataKey) throws Exception {
      Integrator[] target = new Integrator[1];
      KeyServices keys = EventEncryptionTest.keys(keyDir, () -> target[0]::append);
      LogStore store = LogStore.open(ds, EventCipher.underDataKey(keys, ds));
      Integrator integrator = new Integrator(store, 100, 1000);
      target[0] = integrator;
      store.cipher().activate(dataKey, DataKeySpec.AES_256_GCM);
      return new Node(keys, store, integrator);
    }

    @Override
    public void close() {
      integrator.close();
      keys.close();
    }
  }

  private static KeyServices keys(
      Path dir, java.util.function.Supplier<io.yinxin.audit.AuditLog> log) throws Exception {
    return new KeyServices(
        List.of(SoftKeyBackend.open(dir)),
        log == null ? List.of() : List.of(new KeyUseAuditListener(log, Optional.empty())));
  }

  private static List<String> problems(LogStore store) {
    // No checkpoint is published here: the key is never asked to verify one.
    io.yinxin.audit.note.NoteVerifierKey none =
        new io.yinxin.audit.note.NoteVerifierKey(
            "test.example/log", io.yinxin.audit.note.NoteVerifierKey.ED25519, new byte[32]);
    return new LogReader(store, new TileCache(store, 64), none).check().problems();
  }

  /** The event key, unwrapped from its row through the key service. */
  private static byte[] unwrap(DataSource ds, KeyServices keys, String id) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT key_ref, wrapped FROM audit.wrapped_keys WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return keys.decrypt(
            KeyRef.parse(rs.getString(1)),
            rs.getBytes(2),
            ("audit.wrapped_keys/" + id).getBytes(StandardCharsets.UTF_8),
            "test");
      }
    }
  }

  /** {@code enc:<id>:<base64(nonce ‖ ciphertext ‖ tag)>}, key HMAC-SHA256(event key, salt). */
  public static String openByHand(byte[] eventKey, String stored, byte[] salt) throws Exception {
    byte[] in = Base64.getDecoder().decode(stored.substring(stored.indexOf(':', 4) + 1));
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(eventKey, "HmacSHA256"));
    Cipher aes = Cipher.getInstance("AES/GCM/NoPadding");
    aes.init(
        Cipher.DECRYPT_MODE,
        new SecretKeySpec(mac.doFinal(salt), "AES"),
        new GCMParameterSpec(128, in, 0, 12));
    aes.updateAAD(salt);
    return new String(aes.doFinal(in, 12, in.length - 12), StandardCharsets.UTF_8);
  }

  private record Row(String event, byte[] salt, byte[] leaf) {}

  private static Row row(DataSource ds, long idx) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT v.event, v.salt, e.leaf FROM audit.events v JOIN audit.entries e"
                    + " ON e.idx = v.idx WHERE v.idx = ?")) {
      ps.setLong(1, idx);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return new Row(rs.getString(1), rs.getBytes(2), rs.getBytes(3));
      }
    }
  }

  private static List<String> rows(DataSource ds, String type) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT event FROM audit.events WHERE type = ?")) {
      ps.setString(1, type);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  private static void update(DataSource ds, long idx, String stored) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement("UPDATE audit.events SET event = ? WHERE idx = ?")) {
      ps.setString(1, stored);
      ps.setLong(2, idx);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
  }

  /** A fresh PostgreSQL database or H2 file database in PostgreSQL mode, as the node uses. */
  private record Db(DataSource ds, AutoCloseable owner) implements AutoCloseable {
    static Db of(String kind) throws Exception {
      if (kind.equals("postgresql")) {
        PostgresDatabase db = new PostgresDatabase();
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(db.url());
        ds.setUser(PostgresDatabase.USER);
        return new Db(ds, db);
      }
      Path dir = Files.createTempDirectory("yinxin-h2-events-");
      JdbcDataSource ds = new JdbcDataSource();
      ds.setURL(
          "jdbc:h2:file:"
              + dir.resolve("db")
              + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH");
      return new Db(ds, () -> {});
    }

    @Override
    public void close() throws Exception {
      owner.close();
    }
  }
}
