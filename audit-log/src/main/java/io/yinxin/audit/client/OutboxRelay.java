package io.yinxin.audit.client;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.Receipt;
import io.yinxin.audit.store.EventCipher;
import io.yinxin.hsm.DataKeySpec;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.Randomness;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link AuditOutbox} for a node that does not host the log. A caller writes its event into {@code
 * audit_relay.outbox} in its own database transaction; a relay thread forwards committed rows,
 * oldest first and one at a time, to the remote log ({@link HttpAuditLog#appendOnce}) with the
 * row's random idempotency key, then notes the receipt in the row; {@link #await} returns it.
 *
 * <p>Guarantees: no entry for a change that rolled back (its row never committed); every committed
 * row is forwarded, after a crash by the next relay to start on this database; a row forwarded
 * again after a lost answer or a crash gets the first receipt, not a second entry (the log binds
 * the key to one entry); rows reach the log in the order they committed, since one is sent only
 * after the one before it was acknowledged. Several nodes sharing this database may relay the same
 * row; the key makes that harmless.
 *
 * <p>Rows are stored as the log stores its own ({@link EventCipher#forRelay}): encrypted under an
 * event key of this database's, bound to the row's idempotency key, so a dump or backup of this
 * node's database gives no event. The relay thread loads (or creates) that key before anything else
 * and retries until the key backend answers; a caller's {@link #record} waits for it up to 60 s.
 */
public final class OutboxRelay implements AuditOutbox, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);
  private static final Duration KEEP_RECEIPTS = Duration.ofHours(1);
  private static final int MAX_EVENT_CHARS = 80_000;

  private final DataSource dataSource;
  private final HttpAuditLog remote;
  private final EventCipher cipher;
  private final Runnable activate;
  private final Duration poll;
  private final Semaphore kick = new Semaphore(0);

  /** Callers in this process waiting for their rows, by row id. */
  private final Map<Long, CompletableFuture<Receipt>> waiters = new ConcurrentHashMap<>();

  private final Thread relay;
  private volatile boolean running = true;
  private Instant lastPurge = Instant.EPOCH;

  private OutboxRelay(
      DataSource dataSource,
      HttpAuditLog remote,
      Duration poll,
      EventCipher cipher,
      Runnable activate) {
    this.dataSource = dataSource;
    this.remote = remote;
    this.cipher = cipher;
    this.activate = activate;
    this.poll = poll;
    this.relay = new Thread(this::run, "audit-outbox-relay");
    relay.setDaemon(true);
    relay.start();
  }

  /**
   * Creates the outbox table if needed and starts relaying what is in it, left over from a process
   * that died included.
   *
   * @param poll how often the relay looks for rows nobody told it about (other nodes' rows)
   */
  public static OutboxRelay open(DataSource dataSource, HttpAuditLog remote, Duration poll) {
    migrate(dataSource);
    return new OutboxRelay(dataSource, remote, poll, EventCipher.none(), () -> {});
  }

  /**
   * As {@link #open(DataSource, HttpAuditLog, Duration)}, with rows encrypted at rest under an
   * event key wrapped by {@code dataKey} (created as {@code spec} if the backend has none). Loading
   * the key is an audited key use, recorded in the remote log.
   */
  public static OutboxRelay open(
      DataSource dataSource,
      HttpAuditLog remote,
      Duration poll,
      KeyService keys,
      KeyRef dataKey,
      DataKeySpec spec) {
    migrate(dataSource);
    EventCipher cipher = EventCipher.forRelay(keys, dataSource);
    return new OutboxRelay(dataSource, remote, poll, cipher, () -> cipher.activate(dataKey, spec));
  }

  private static void migrate(DataSource dataSource) {
    org.flywaydb.core.Flyway.configure()
        .dataSource(dataSource)
        .schemas("audit_relay")
        .createSchemas(true)
        .locations("classpath:db/audit-relay")
        .table("flyway_history")
        .load()
        .migrate();
  }

  @Override
  public Pending record(Connection c, AuditEvent event) {
    String body = HttpAuditLog.body(event);
    if (body.length() > MAX_EVENT_CHARS) {
      throw new AuditException(Code.INVALID_EVENT, "event too large");
    }
    byte[] k = new byte[18];
    Randomness.current().nextBytes(k);
    String key = "relay-" + Base64.getUrlEncoder().withoutPadding().encodeToString(k);
    String stored = cipher.seal(body, salt(key));
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO audit_relay.outbox (idem_key, event) VALUES (?, ?)",
            new String[] {"id"})) {
      ps.setString(1, key);
      ps.setString(2, stored);
      ps.executeUpdate();
      try (ResultSet keys = ps.getGeneratedKeys()) {
        if (!keys.next()) {
          throw new SQLException("no id for the outbox row");
        }
        return new Pending(keys.getLong(1));
      }
    } catch (SQLException e) {
      throw new AuditException(Code.UNAVAILABLE, "outbox row not written", e);
    }
  }

  @Override
  public Receipt await(Pending pending) {
    CompletableFuture<Receipt> done =
        waiters.computeIfAbsent(pending.id(), id -> new CompletableFuture<>());
    kick.release();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    try {
      while (true) {
        try {
          return done.get(200, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          // another node sharing this database may have relayed the row: look it up
          Optional<Receipt> r = receipt(pending.id());
          if (r.isPresent()) {
            return r.get();
          }
          if (System.nanoTime() > deadline) {
            throw new AuditException(
                Code.UNAVAILABLE,
                "outbox entry " + pending.id() + " not in the remote log yet; it stays queued");
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AuditException(Code.UNAVAILABLE, "interrupted while waiting for the log");
    } catch (ExecutionException e) {
      throw new AuditException(Code.UNAVAILABLE, "relay failed", e.getCause());
    } finally {
      waiters.remove(pending.id());
    }
  }

  private Optional<Receipt> receipt(long id) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT receipt_index, receipt_leaf FROM audit_relay.outbox WHERE id = ?"
                    + " AND receipt_index IS NOT NULL")) {
      ps.setLong(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new Receipt(rs.getLong(1), rs.getBytes(2)))
            : Optional.empty();
      }
    } catch (SQLException e) {
      return Optional.empty();
    }
  }

  /** A row's ciphertext is bound to its idempotency key (random, unique). */
  private static byte[] salt(String idemKey) {
    return idemKey.getBytes(StandardCharsets.UTF_8);
  }

  private record Row(long id, String key, String event) {}

  private void run() {
    Duration backoff = Duration.ofMillis(100);
    boolean active = false;
    while (running) {
      try {
        if (!active) {
          activate.run();
          active = true;
        }
        int sent = relayOnce();
        backoff = Duration.ofMillis(100);
        if (sent == 0) {
          kick.tryAcquire(poll.toMillis(), TimeUnit.MILLISECONDS);
          kick.drainPermits();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        log.warn("event=audit_relay_failed reason={}", e.getMessage());
        try {
          Thread.sleep(backoff.toMillis());
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
        backoff =
            backoff.multipliedBy(2).compareTo(Duration.ofSeconds(10)) > 0
                ? Duration.ofSeconds(10)
                : backoff.multipliedBy(2);
      }
    }
  }

  /**
   * Forwards the committed rows without a receipt, oldest first, stopping at the first failure so
   * that order is kept.
   *
   * @return how many were forwarded
   */
  int relayOnce() {
    List<Row> rows = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, idem_key, event FROM audit_relay.outbox WHERE receipt_index IS NULL"
                    + " ORDER BY id LIMIT 100")) {
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String key = rs.getString(2);
          rows.add(new Row(rs.getLong(1), key, cipher.open(rs.getString(3), salt(key))));
        }
      }
      for (Row row : rows) {
        Receipt r = remote.appendOnce(row.event(), row.key());
        try (PreparedStatement up =
            c.prepareStatement(
                "UPDATE audit_relay.outbox SET receipt_index = ?, receipt_leaf = ?, relayed_at = ?"
                    + " WHERE id = ?")) {
          up.setLong(1, r.index());
          up.setBytes(2, r.leafHash());
          up.setTimestamp(3, Timestamp.from(Instant.now()));
          up.setLong(4, row.id());
          up.executeUpdate();
        }
        CompletableFuture<Receipt> waiter = waiters.get(row.id());
        if (waiter != null) {
          waiter.complete(r);
        }
      }
      purge(c);
    } catch (SQLException e) {
      throw new AuditException(Code.UNAVAILABLE, "outbox unreadable", e);
    }
    return rows.size();
  }

  private void purge(Connection c) throws SQLException {
    Instant now = Instant.now();
    if (Duration.between(lastPurge, now).compareTo(Duration.ofMinutes(1)) < 0) {
      return;
    }
    lastPurge = now;
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM audit_relay.outbox WHERE relayed_at < ?")) {
      ps.setTimestamp(1, Timestamp.from(now.minus(KEEP_RECEIPTS)));
      ps.executeUpdate();
    }
  }

  /** Rows committed and not yet in the remote log. */
  public long backlog() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM audit_relay.outbox WHERE receipt_index IS NULL");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new AuditException(Code.UNAVAILABLE, "outbox unreadable", e);
    }
  }

  /** Stops relaying; what is left is forwarded by the next relay on this database. */
  @Override
  public void close() {
    running = false;
    kick.release();
    try {
      relay.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
