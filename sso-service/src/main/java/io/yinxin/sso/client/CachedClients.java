package io.yinxin.sso.client;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import javax.sql.DataSource;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Registered clients read from the database once and then served from memory, as long as no client
 * changed. Every request to the token, introspection and revocation endpoints looks its client up;
 * reading the row and parsing its settings (JSON) each time cost 12% of the token endpoint's CPU.
 *
 * <p>Every change of a client — the admin API, dynamic registration, the demo client at start, a
 * {@link #save} here — adds one to a generation counter ({@code sso.client_generation}) in the
 * change's own transaction. A node re-reads the counter at most every {@code recheck} (half a
 * second by default) and drops its cached clients when it moved, so another node's change (a
 * rotated secret, a deleted client) holds here within that time; a change made through this node
 * holds at once ({@link #changed()}). A cached client carries the generation read before it was
 * loaded, so a load that raced a change is not kept past the next check. Unknown client IDs are not
 * cached (made-up IDs cannot fill memory), and the cache is emptied past {@code MAX_ENTRIES}.
 */
public final class CachedClients implements RegisteredClientRepository {
  private static final int MAX_ENTRIES = 10_000;

  private record Entry(long generation, RegisteredClient client) {}

  private final RegisteredClientRepository delegate;
  private final DataSource inSchema;
  private final TransactionTemplate tx;
  private final long recheckNanos;
  private final ConcurrentHashMap<String, Entry> byClientId = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Entry> byId = new ConcurrentHashMap<>();
  private final ReentrantLock checking = new ReentrantLock();
  private volatile long generation = Long.MIN_VALUE;
  private volatile long checkedAt;
  private volatile boolean stale = true;

  /**
   * @param delegate the JDBC repository
   * @param inSchema the data source it writes through (so a save and its count share a transaction)
   * @param recheck how long another node's change may go unseen here
   */
  public CachedClients(RegisteredClientRepository delegate, DataSource inSchema, Duration recheck) {
    this.delegate = delegate;
    this.inSchema = inSchema;
    this.tx =
        new TransactionTemplate(
            new org.springframework.jdbc.datasource.DataSourceTransactionManager(inSchema));
    this.recheckNanos = recheck.toNanos();
  }

  /** Counts one change of a client, in the caller's transaction on {@code c}. */
  public static void countChange(Connection c) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE sso.client_generation SET generation = generation + 1 WHERE id = 1")) {
      ps.executeUpdate();
    }
  }

  /** A client changed through this node (after its commit): the next lookup re-reads. */
  public void changed() {
    stale = true;
  }

  @Override
  public void save(RegisteredClient client) {
    tx.executeWithoutResult(
        status -> {
          delegate.save(client);
          try {
            countChange(
                org.springframework.jdbc.datasource.DataSourceUtils.getConnection(inSchema));
          } catch (SQLException e) {
            throw new IllegalStateException("cannot count a client change", e);
          }
        });
    changed();
  }

  @Override
  public RegisteredClient findById(String id) {
    return find(byId, id, delegate::findById);
  }

  @Override
  public RegisteredClient findByClientId(String clientId) {
    return find(byClientId, clientId, delegate::findByClientId);
  }

  private RegisteredClient find(
      ConcurrentHashMap<String, Entry> cache, String key, Function<String, RegisteredClient> load) {
    if (key == null) {
      return null;
    }
    long current = current();
    Entry e = cache.get(key);
    if (e != null && e.generation() == current) {
      return e.client();
    }
    RegisteredClient client = load.apply(key);
    if (client != null) {
      if (cache.size() >= MAX_ENTRIES) {
        cache.clear();
      }
      cache.put(key, new Entry(current, client));
    }
    return client;
  }

  /** The generation counter, re-read when {@code recheck} passed or this node changed a client. */
  private long current() {
    if (!stale && System.nanoTime() - checkedAt <= recheckNanos) {
      return generation;
    }
    if (stale) {
      checking.lock(); // a change made here: every lookup waits for the counter read after it
    } else if (!checking.tryLock()) {
      return generation; // another thread is re-reading it: the last value is fresh enough
    }
    try {
      if (stale || System.nanoTime() - checkedAt > recheckNanos) {
        stale = false; // a change counted from here on sets it again, and is read again
        long now = System.nanoTime();
        long g = readGeneration();
        if (g != generation) {
          byClientId.clear();
          byId.clear();
          generation = g;
        }
        checkedAt = now;
      }
    } finally {
      checking.unlock();
    }
    return generation;
  }

  private long readGeneration() {
    try (Connection c = inSchema.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT generation FROM sso.client_generation WHERE id = 1");
        ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        throw new IllegalStateException("sso.client_generation has no row");
      }
      return rs.getLong(1);
    } catch (SQLException e) {
      stale = true; // try again with the next lookup
      throw new IllegalStateException("cannot read the client generation", e);
    }
  }
}
