package io.yinxin.audit.store;

import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import javax.sql.DataSource;

/**
 * How the private event rows ({@code audit.events.event}, and {@code audit.outbox.event} while an
 * event waits there) are stored: in clear ({@link #none()}: tests, benchmarks) or encrypted at rest
 * ({@link #underDataKey}), as GB/T 39786 asks of personal data (events carry names and account
 * identifiers).
 *
 * <p>Encrypted, a row holds {@code enc:<key id>:<base64(nonce ‖ AES-256-GCM ciphertext ‖ tag)>}
 * under a key of its own (HMAC-SHA256 of the event's random salt under the event key), with the
 * salt as associated data too, so a ciphertext copied into another row does not open there. The AES
 * key (the <em>event key</em>) is random, made by the first node that starts with encryption on,
 * and stored only wrapped by a data protection key in the key backend ({@code audit.wrapped_keys});
 * each process unwraps it once. Encrypting every event through the backend itself would put a
 * PKCS#11 or Vault round trip, and an audit record of its own, into every append. The rows hold
 * only ciphertext, so the database alone (a dump, a backup, a replica) gives no event. The public
 * leaves are unchanged: they commit to the event in clear, and an evidence bundle carries the event
 * in clear to the auditor it is given to.
 *
 * <p>Wrapping and unwrapping the event key are recorded by the log itself, in the {@code
 * LOG_STARTED} event of the process ({@link #keyUse()}): the log cannot append a record of that key
 * use before it holds the key the record is encrypted under. Rows written in clear before
 * encryption was switched on stay readable; every new row is encrypted.
 */
public final class EventCipher {
  private static final String PREFIX = "enc:";
  private static final String PURPOSE = "audit:event-key";
  private static final int NONCE = 12;
  private static final int TAG_BITS = 128;

  /** Looked up once per thread: {@code getInstance} costs as much as encrypting a small event. */
  private static final ThreadLocal<Cipher> AES = ThreadLocal.withInitial(() -> instance("aes"));

  private static final ThreadLocal<javax.crypto.Mac> HMAC =
      ThreadLocal.withInitial(() -> instance("hmac"));

  @SuppressWarnings("unchecked")
  private static <T> T instance(String which) {
    try {
      return (T)
          (which.equals("aes")
              ? Cipher.getInstance("AES/GCM/NoPadding")
              : javax.crypto.Mac.getInstance("HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM or HMAC-SHA256 is unavailable", e);
    }
  }

  private final KeyService keys;
  private final DataSource dataSource;

  /** Where the wrapped event keys are: {@code audit.wrapped_keys} or {@code audit_relay.…}. */
  private final String table;

  /**
   * Whether this caller records its uses of the data protection key itself (the log, in {@code
   * LOG_STARTED}) or the key service's audit listener does (the relay, whose listener appends to
   * the remote log directly).
   */
  private final boolean recordsKeyUse;

  /** Event keys by id: the active one and any older one a row was read with. */
  private final Map<String, SecretKeySpec> keysById = new ConcurrentHashMap<>();

  private final CountDownLatch ready = new CountDownLatch(1);
  private volatile String activeId;
  private volatile Map<String, String> keyUse = Map.of();

  private EventCipher(KeyService keys, DataSource dataSource, String table, boolean recordsKeyUse) {
    this.keys = keys;
    this.dataSource = dataSource;
    this.table = table;
    this.recordsKeyUse = recordsKeyUse;
  }

  /** Events stored in clear. */
  public static EventCipher none() {
    EventCipher c = new EventCipher(null, null, "audit.wrapped_keys", true);
    c.ready.countDown();
    return c;
  }

  /**
   * Events encrypted under an event key that {@link #activate} loads or creates. Until it has run,
   * an append waits (up to 60 s) rather than store an event in clear.
   */
  public static EventCipher underDataKey(KeyService keys, DataSource dataSource) {
    return new EventCipher(keys, dataSource, "audit.wrapped_keys", true);
  }

  /**
   * The outbox of a node that relays its events to a remote log ({@code audit_relay.outbox}): the
   * same format, its own event key in {@code audit_relay.wrapped_keys}. Its uses of the data
   * protection key are ordinary audited key uses, recorded in the remote log by the key service's
   * listener (which appends there directly, not through this outbox).
   */
  public static EventCipher forRelay(KeyService keys, DataSource dataSource) {
    return new EventCipher(keys, dataSource, "audit_relay.wrapped_keys", false);
  }

  /** Whether rows are encrypted. */
  public boolean encrypts() {
    return keys != null;
  }

  /**
   * Loads or creates the event key under {@code dataKey}, creating that data protection key too
   * ({@code spec}) when the backend has none. A new event key is held before anything else is done,
   * so the audit record of creating the data key (appended by the key service's audit listener
   * while this runs) is already encrypted; wrapping or unwrapping the event key is recorded in
   * {@link #keyUse()}.
   *
   * @throws AuditException {@code UNAVAILABLE} when the key backend or the database fails
   */
  public synchronized void activate(KeyRef dataKey, io.yinxin.hsm.DataKeySpec spec) {
    if (keys == null || activeId != null) {
      return;
    }
    try (Connection c = dataSource.getConnection()) {
      boolean dataKeyExists = keys.dataKey(dataKey).isPresent();
      Optional<Wrapped> newest = dataKeyExists ? newest(c, dataKey) : Optional.empty();
      if (newest.isPresent()) {
        Wrapped w = newest.get();
        byte[] raw = unwrap(dataKey, w.wrapped(), w.id());
        install(w.id(), raw);
        keyUse = use(w.id(), dataKey, "unwrapped");
        return;
      }
      byte[] raw = new byte[32];
      io.yinxin.hsm.Randomness.current().nextBytes(raw);
      byte[] idBytes = new byte[8];
      io.yinxin.hsm.Randomness.current().nextBytes(idBytes);
      String id = "k" + HexFormat.of().formatHex(idBytes);
      install(id, raw.clone());
      if (!dataKeyExists) {
        try {
          KeyRef made = keys.generateDataKey(dataKey.scheme(), spec, dataKey.label());
          if (!made.equals(dataKey)) {
            throw new IllegalStateException("the key backend named the new key " + made);
          }
        } catch (io.yinxin.hsm.KeyException e) {
          // Another node starting at the same moment made it first: use theirs.
          if (keys.dataKey(dataKey).isEmpty()) {
            throw e;
          }
        }
      }
      byte[] wrapped =
          recordsKeyUse
              ? keys.encryptRecordedByCaller(dataKey, raw, context(id), PURPOSE)
              : keys.encrypt(dataKey, raw, context(id), PURPOSE);
      Arrays.fill(raw, (byte) 0);
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO "
                  + table
                  + " (id, key_ref, wrapped, created_at)"
                  + " VALUES (?, ?, ?, ?)")) {
        ps.setString(1, id);
        ps.setString(2, dataKey.toString());
        ps.setBytes(3, wrapped);
        ps.setTimestamp(4, Timestamp.from(Instant.now()));
        ps.executeUpdate();
      }
      keyUse = use(id, dataKey, "created");
    } catch (SQLException e) {
      throw new AuditException(Code.UNAVAILABLE, "the audit event key cannot be stored or read", e);
    }
  }

  private byte[] unwrap(KeyRef dataKey, byte[] wrapped, String id) {
    return recordsKeyUse
        ? keys.decryptRecordedByCaller(dataKey, wrapped, context(id), PURPOSE)
        : keys.decrypt(dataKey, wrapped, context(id), PURPOSE);
  }

  private void install(String id, byte[] raw) {
    keysById.put(id, new SecretKeySpec(raw, "HmacSHA256"));
    Arrays.fill(raw, (byte) 0);
    activeId = id;
    ready.countDown();
  }

  private static Map<String, String> use(String id, KeyRef dataKey, String how) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("eventKey", id);
    m.put("eventKeyWrappedBy", dataKey.toString());
    m.put("eventKeyUse", how);
    return Map.copyOf(m);
  }

  /**
   * What this process did with the data protection key to get its event key (created and wrapped
   * it, or unwrapped it), as attributes of its {@code LOG_STARTED} event; empty when events are
   * stored in clear.
   */
  public Map<String, String> keyUse() {
    return keyUse;
  }

  /**
   * The stored form of an event's canonical encoding.
   *
   * @param salt random bytes of the row's own (16 for a log event, the idempotency key for a relay
   *     row): the event's key is derived from it and the ciphertext bound to it
   */
  public String seal(String canonical, byte[] salt) {
    if (keys == null) {
      return canonical;
    }
    String id = awaitActive();
    try {
      byte[] nonce = new byte[NONCE];
      io.yinxin.hsm.Randomness.current().nextBytes(nonce);
      Cipher aes = AES.get();
      aes.init(
          Cipher.ENCRYPT_MODE,
          eventKey(keysById.get(id), salt),
          new GCMParameterSpec(TAG_BITS, nonce));
      aes.updateAAD(salt);
      byte[] plain = canonical.getBytes(StandardCharsets.UTF_8);
      byte[] out = new byte[NONCE + aes.getOutputSize(plain.length)];
      System.arraycopy(nonce, 0, out, 0, NONCE);
      aes.doFinal(plain, 0, plain.length, out, NONCE);
      return PREFIX + id + ":" + Base64.getEncoder().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is unavailable", e);
    }
  }

  private String awaitActive() {
    try {
      if (!ready.await(60, TimeUnit.SECONDS)) {
        throw new AuditException(Code.UNAVAILABLE, "the audit event key is not loaded");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AuditException(Code.UNAVAILABLE, "interrupted while waiting for the event key");
    }
    return activeId;
  }

  /**
   * The canonical encoding of a stored event: decrypted, or as stored when it was written in clear.
   *
   * @throws AuditException {@code UNAVAILABLE} when the row does not decrypt (changed, moved from
   *     another row, or under a key that is gone)
   */
  public String open(String stored, byte[] salt) {
    if (stored == null || !stored.startsWith(PREFIX)) {
      return stored;
    }
    int colon = stored.indexOf(':', PREFIX.length());
    if (colon < 0) {
      throw cannotOpen();
    }
    String id = stored.substring(PREFIX.length(), colon);
    try {
      byte[] in = Base64.getDecoder().decode(stored.substring(colon + 1));
      if (in.length < NONCE + TAG_BITS / 8) {
        throw cannotOpen();
      }
      Cipher aes = AES.get();
      aes.init(
          Cipher.DECRYPT_MODE,
          eventKey(key(id), salt),
          new GCMParameterSpec(TAG_BITS, in, 0, NONCE));
      aes.updateAAD(salt);
      return new String(aes.doFinal(in, NONCE, in.length - NONCE), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      throw cannotOpen();
    }
  }

  /**
   * The AES-256 key of one event: HMAC-SHA256 of its salt under the event key. Each event has its
   * own key (salts are 16 random bytes), so no number of events comes near the 2^32 messages NIST
   * SP 800-38D allows one GCM key with random nonces.
   */
  private static SecretKeySpec eventKey(SecretKeySpec key, byte[] salt)
      throws GeneralSecurityException {
    javax.crypto.Mac mac = HMAC.get();
    mac.init(key);
    byte[] k = mac.doFinal(salt);
    SecretKeySpec spec = new SecretKeySpec(k, "AES");
    Arrays.fill(k, (byte) 0);
    return spec;
  }

  private static AuditException cannotOpen() {
    return new AuditException(
        Code.UNAVAILABLE, "an audit event does not decrypt: changed, moved, or its key is gone");
  }

  /** An event key by id: loaded and unwrapped (an audited key use) the first time it is needed. */
  private SecretKeySpec key(String id) {
    SecretKeySpec k = keysById.get(id);
    if (k != null) {
      return k;
    }
    if (keys == null) {
      throw cannotOpen();
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT key_ref, wrapped FROM " + table + " WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw cannotOpen();
        }
        byte[] raw =
            keys.decrypt(KeyRef.parse(rs.getString(1)), rs.getBytes(2), context(id), PURPOSE);
        SecretKeySpec spec = new SecretKeySpec(raw, "HmacSHA256");
        Arrays.fill(raw, (byte) 0);
        keysById.putIfAbsent(id, spec);
        return keysById.get(id);
      }
    } catch (SQLException e) {
      throw new AuditException(Code.UNAVAILABLE, "the audit event key cannot be read", e);
    }
  }

  private record Wrapped(String id, byte[] wrapped) {}

  private Optional<Wrapped> newest(Connection c, KeyRef dataKey) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT id, wrapped FROM "
                + table
                + " WHERE key_ref = ? ORDER BY created_at DESC, id LIMIT 1")) {
      ps.setString(1, dataKey.toString());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new Wrapped(rs.getString(1), rs.getBytes(2)))
            : Optional.empty();
      }
    }
  }

  /** What a wrapped event key is bound to: its table and id. */
  private byte[] context(String id) {
    return (table + "/" + id).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return keys == null ? "EventCipher[clear]" : "EventCipher[" + activeId + "]";
  }
}
