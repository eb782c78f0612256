package io.yinxin.audit.store;

import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.merkle.Tiles;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** SQL for schema {@code audit}, on PostgreSQL or H2. Callers own transactions. */
public final class LogStore {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LogStore.class);

  private final DataSource dataSource;
  private final boolean postgres;
  private final EventCipher cipher;

  /**
   * Migrates schema {@code audit} (the module's own Flyway history, {@code audit.flyway_history})
   * and opens the store.
   */
  public static LogStore open(DataSource dataSource) {
    return open(dataSource, EventCipher.none());
  }

  /** The same, with private event rows stored as {@code cipher} says. */
  public static LogStore open(DataSource dataSource, EventCipher cipher) {
    org.flywaydb.core.Flyway.configure()
        .dataSource(dataSource)
        .schemas("audit")
        .createSchemas(true)
        // Portable migrations, then the database's own (db/audit-postgresql, db/audit-h2). Core
        // Flyway has no {vendor} placeholder (that is Spring Boot's): the folder is named here.
        .locations("classpath:db/audit", "classpath:db/audit-" + vendor(dataSource))
        .table("flyway_history")
        .load()
        .migrate();
    return new LogStore(dataSource, cipher);
  }

  private static String vendor(DataSource dataSource) {
    try (Connection c = dataSource.getConnection()) {
      return c.getMetaData()
              .getDatabaseProductName()
              .toLowerCase(java.util.Locale.ROOT)
              .contains("postgres")
          ? "postgresql"
          : "h2";
    } catch (SQLException e) {
      throw new AuditException(Code.UNAVAILABLE, "audit database unreachable", e);
    }
  }

  private LogStore(DataSource dataSource, EventCipher cipher) {
    this.dataSource = dataSource;
    this.cipher = cipher;
    try (Connection c = dataSource.getConnection()) {
      this.postgres =
          c.getMetaData()
              .getDatabaseProductName()
              .toLowerCase(java.util.Locale.ROOT)
              .contains("postgres");
      if (postgres) {
        warnIfNotDurable(c);
      }
    } catch (SQLException e) {
      throw new AuditException(Code.UNAVAILABLE, "audit database unreachable", e);
    }
  }

  /**
   * Says so when this database's commits are not durable (set for the server, the database or the
   * role, so every connection has it): acknowledged entries could then be lost. With {@code
   * synchronous_commit = off} every one-statement append is also refused ({@link #SAME_SERVER}), so
   * each append reads the tree back under the lock.
   */
  private static void warnIfNotDurable(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT current_setting('synchronous_commit'), current_setting('fsync')");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      if ("off".equals(rs.getString(1)) || "off".equals(rs.getString(2))) {
        log.warn(
            "event=audit_commits_not_durable synchronous_commit={} fsync={}"
                + " (acknowledged entries can be lost)",
            rs.getString(1),
            rs.getString(2));
      }
    }
  }

  /**
   * Commits and returns only once the transaction is in the database file. PostgreSQL's commit
   * already waits for its WAL flush. H2's does not: its MVStore writes commits in the background
   * (by default up to 500 ms later), and even with {@code WRITE_DELAY=0} a SIGKILL under concurrent
   * writers was seen to bring back a tree shorter than checkpoints already published, with rows of
   * half a batch. {@code CHECKPOINT SYNC} writes the store and fsyncs it, so what a caller is told
   * is committed survives a process kill and, as far as the disk honours fsync, an OS crash.
   */
  public void commitDurably(Connection c) throws SQLException {
    c.commit();
    if (!postgres) {
      try (var s = c.createStatement()) {
        s.execute("CHECKPOINT SYNC");
      }
    }
  }

  public boolean postgres() {
    return postgres;
  }

  public Connection connection() throws SQLException {
    return dataSource.getConnection();
  }

  /**
   * Key of the PostgreSQL advisory transaction lock that admits one appender at a time, on any
   * node. An advisory lock lives in shared memory: unlike a row lock it writes no WAL, which a lone
   * append would otherwise pay for on every commit.
   */
  static final long APPEND_LOCK_KEY = 0x7969_6e78_6170_7064L; // "yinxappd"

  /**
   * Admits this transaction as the only appender (until it ends) and returns the tree size. On
   * PostgreSQL an advisory lock shared with {@code audit.append_entries}; on H2 (one embedded node)
   * the row lock on {@code audit.tree_state}.
   */
  long lockSize(Connection c) throws SQLException {
    return lock(c).size();
  }

  /**
   * The database server a tree was read from or written to: when the PostgreSQL server started
   * ({@code pg_postmaster_start_time()}, in microseconds since 1970) and the object id of {@code
   * audit.events}. A node that keeps the tree's right edge in memory may go on appending to it only
   * while both are unchanged: then every entry it saw committed is still there, because a committed
   * entry is never deleted and PostgreSQL loses none while it runs (a commit waits for its WAL
   * flush, so even a crash of one backend, which restarts all the others, replays it). A database
   * that lost its newest entries got them back from somewhere else — a restore into a new cluster,
   * a promoted standby that lagged, a database dropped and restored from a dump — and is a
   * different server or a different table. (On H2, one embedded node, always {@link #EMBEDDED}.)
   */
  record Server(long startMicros, long eventsOid) {}

  static final Server EMBEDDED = new Server(0, 0);

  /** What {@link #lock} found: the tree size, and the server it is the size on. */
  record Locked(long size, Server server) {}

  /**
   * Admits this transaction as the only appender (until it ends) and returns the tree size and the
   * server; {@link #lockSize} without the server.
   */
  Locked lock(Connection c) throws SQLException {
    String sql =
        postgres
            ? "SELECT pg_advisory_xact_lock("
                + APPEND_LOCK_KEY
                + "), pg_postmaster_start_time(),"
                + " CAST(CAST(CAST('audit.events' AS regclass) AS oid) AS bigint)"
            : "SELECT size FROM audit.tree_state WHERE id = 1 FOR UPDATE";
    Server server = EMBEDDED;
    try (PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        throw new SQLException("audit.tree_state has no row");
      }
      if (postgres) {
        // Read as the driver parses it (to the microsecond, on any server version), and compared
        // by SAME_SERVER as whole microseconds.
        Instant start = rs.getObject(2, java.time.OffsetDateTime.class).toInstant();
        server =
            new Server(
                Math.addExact(
                    Math.multiplyExact(start.getEpochSecond(), 1_000_000L),
                    start.getNano() / 1_000),
                rs.getLong(3));
      }
    }
    return new Locked(size(c), server);
  }

  /**
   * The condition under which a statement may append to the tree a node holds in memory: it runs on
   * the {@link Server} the tree was last seen on, and commits durably. Two parameters: {@link
   * Server#startMicros()}, {@link Server#eventsOid()}. The table's id is resolved once when the
   * statement is parsed; the start time is one function call per execution. Much cheaper than
   * looking up the entry before (an index descent and a heap visit, 0.04–0.09 of a lone append's
   * rate), and it also refuses what that look-up let through: a restored tree that other nodes had
   * already grown back to this node's size with other entries. {@code synchronous_commit = off}
   * (unsupported: acknowledged entries could be lost) fails it, so such a node always takes the
   * locked path, which reads the tree back.
   */
  private static final String SAME_SERVER =
      "pg_postmaster_start_time() = TIMESTAMPTZ 'epoch' + CAST(? AS bigint) * INTERVAL '1"
          + " microsecond' AND CAST('audit.events' AS regclass) = CAST(CAST(? AS bigint) AS oid)"
          + " AND current_setting('synchronous_commit') <> 'off'";

  private static int bindServer(PreparedStatement ps, int p, Server server) throws SQLException {
    ps.setLong(p++, server.startMicros());
    ps.setLong(p++, server.eventsOid());
    return p;
  }

  /**
   * The number of entries. Indices are gapless (each batch starts where the committed tree ends,
   * under the append lock), so this is the highest index plus one: one backward step on the primary
   * key, and no size row for every append to rewrite.
   */
  public long size(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit.events");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  public long size() {
    try (Connection c = connection()) {
      return size(c);
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  /** One entry to insert: public leaf, its hash, and the private event. */
  record Row(
      long index,
      byte[] leaf,
      byte[] leafHash,
      String type,
      String actor,
      String subject,
      Instant time,
      String event,
      byte[] salt,
      long outboxId) {}

  /** An event waiting in the outbox: the leaf is fixed when it is recorded. */
  record OutboxRow(
      long id,
      byte[] leaf,
      String type,
      String actor,
      String subject,
      Instant time,
      String event,
      byte[] salt) {}

  /** Writes an outbox row in the caller's transaction and returns its id. */
  long insertOutbox(Connection c, OutboxRow r) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO audit.outbox (leaf, type, actor, subject, event_time, event, salt)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)",
            new String[] {"id"})) {
      ps.setBytes(1, r.leaf());
      ps.setString(2, r.type());
      ps.setString(3, r.actor());
      ps.setString(4, r.subject());
      ps.setObject(5, utc(r.time()));
      ps.setString(6, r.event());
      ps.setBytes(7, r.salt());
      ps.executeUpdate();
      try (ResultSet keys = ps.getGeneratedKeys()) {
        if (!keys.next()) {
          throw new SQLException("no id for the outbox row");
        }
        return keys.getLong(1);
      }
    }
  }

  /**
   * Binds an idempotency key to an outbox row, in the caller's transaction.
   *
   * @return false if the key is bound already (the caller rolls back and uses the bound row)
   */
  boolean bindIdempotencyKey(Connection c, String key, long outboxId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO audit.idempotency_keys (idem_key, outbox_id) VALUES (?, ?)")) {
      ps.setString(1, key);
      ps.setLong(2, outboxId);
      ps.executeUpdate();
      return true;
    } catch (SQLException e) {
      if ("23505".equals(e.getSQLState())) {
        return false;
      }
      throw e;
    }
  }

  /** The outbox row an idempotency key is bound to. */
  Optional<Long> outboxIdForKey(Connection c, String key) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT outbox_id FROM audit.idempotency_keys WHERE idem_key = ?")) {
      ps.setString(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
      }
    }
  }

  /** The oldest committed outbox rows, by id. */
  List<OutboxRow> outbox(Connection c, int limit) throws SQLException {
    List<OutboxRow> out = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT id, leaf, type, actor, subject, event_time, event, salt FROM audit.outbox"
                + " ORDER BY id LIMIT ?")) {
      ps.setInt(1, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new OutboxRow(
                  rs.getLong(1),
                  rs.getBytes(2),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getString(5),
                  rs.getTimestamp(6).toInstant(),
                  rs.getString(7),
                  rs.getBytes(8)));
        }
      }
    }
    return out;
  }

  boolean outboxEmpty(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM audit.outbox LIMIT 1");
        ResultSet rs = ps.executeQuery()) {
      return !rs.next();
    }
  }

  void deleteOutbox(Connection c, List<Long> ids) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM audit.outbox WHERE id = ?")) {
      for (long id : ids) {
        ps.setLong(1, id);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /** The receipt of the entry integrated from outbox row {@code outboxId}, if it is in the log. */
  Optional<io.yinxin.audit.Receipt> receiptForOutbox(Connection c, long outboxId)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT idx, leaf_hash FROM audit.events WHERE outbox_id = ?")) {
      ps.setLong(1, outboxId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new io.yinxin.audit.Receipt(rs.getLong(1), rs.getBytes(2)))
            : Optional.empty();
      }
    }
  }

  /** Inserts entries, each one row of {@code audit.events}: leaf, leaf hash and private event. */
  void insert(Connection c, List<Row> rows) throws SQLException {
    try (PreparedStatement v =
        c.prepareStatement(
            "INSERT INTO audit.events (idx, leaf, leaf_hash, type, actor, subject, event_time,"
                + " event, salt, outbox_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      for (Row r : rows) {
        v.setLong(1, r.index());
        v.setBytes(2, r.leaf());
        v.setBytes(3, r.leafHash());
        v.setString(4, r.type());
        v.setString(5, r.actor());
        v.setString(6, r.subject());
        v.setObject(7, utc(r.time()));
        v.setString(8, r.event());
        v.setBytes(9, r.salt());
        if (r.outboxId() > 0) {
          v.setLong(10, r.outboxId());
        } else {
          v.setNull(10, java.sql.Types.BIGINT);
        }
        v.addBatch();
      }
      v.executeBatch();
    }
  }

  /**
   * PostgreSQL only: appends {@code rows} and writes {@code tiles} (those that changed) in one
   * statement and one round trip ({@code audit.append_entries}), in autocommit, so it is durable
   * when this returns.
   *
   * @param server where the node's tree was last seen ({@link #lock}); written only there
   * @return false, with nothing written, if the tree does not have exactly {@code expectedSize}
   *     entries or is not on {@code server}
   */
  boolean appendInOneStatement(
      Connection c, long expectedSize, Server server, List<Row> rows, List<Object[]> tiles)
      throws SQLException {
    if (rows.size() == 1 && tiles.isEmpty()) {
      return appendOne(c, expectedSize, server, rows.get(0));
    }
    if (rows.size() == 1 && tiles.size() <= MAX_TILES_WITH_ONE) {
      return appendOneWithTiles(c, expectedSize, server, rows.get(0), tiles);
    }
    if (rows.size() <= FEW && tiles.isEmpty()) {
      return appendFew(c, expectedSize, server, rows);
    }
    int n = rows.size();
    Long[] idx = new Long[n];
    byte[][] leaf = new byte[n][];
    byte[][] leafHash = new byte[n][];
    String[] type = new String[n];
    String[] actor = new String[n];
    String[] subject = new String[n];
    String[] time = new String[n];
    String[] event = new String[n];
    byte[][] salt = new byte[n][];
    for (int i = 0; i < n; i++) {
      Row r = rows.get(i);
      idx[i] = r.index();
      leaf[i] = r.leaf();
      leafHash[i] = r.leafHash();
      type[i] = r.type();
      actor[i] = r.actor();
      subject[i] = r.subject();
      time[i] = r.time().toString();
      event[i] = r.event();
      salt[i] = r.salt();
    }
    Integer[] tileLevel = new Integer[tiles.size()];
    Long[] tileIdx = new Long[tiles.size()];
    Integer[] tileWidth = new Integer[tiles.size()];
    byte[][] tileHash = new byte[tiles.size()][];
    for (int i = 0; i < tiles.size(); i++) {
      Object[] t = tiles.get(i);
      tileLevel[i] = (Integer) t[0];
      tileIdx[i] = (Long) t[1];
      tileHash[i] = (byte[]) t[2];
      tileWidth[i] = tileHash[i].length / 32;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT audit.append_entries(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE "
                + SAME_SERVER)) {
      ps.setLong(1, expectedSize);
      ps.setArray(2, c.createArrayOf("bigint", idx));
      ps.setArray(3, c.createArrayOf("bytea", leaf));
      ps.setArray(4, c.createArrayOf("bytea", leafHash));
      ps.setArray(5, c.createArrayOf("text", type));
      ps.setArray(6, c.createArrayOf("text", actor));
      ps.setArray(7, c.createArrayOf("text", subject));
      ps.setArray(8, c.createArrayOf("text", time));
      ps.setArray(9, c.createArrayOf("text", event));
      ps.setArray(10, c.createArrayOf("bytea", salt));
      ps.setArray(11, c.createArrayOf("int", tileLevel));
      ps.setArray(12, c.createArrayOf("bigint", tileIdx));
      ps.setArray(13, c.createArrayOf("int", tileWidth));
      ps.setArray(14, c.createArrayOf("bytea", tileHash));
      bindServer(ps, 15, server);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next(); // no row: another server, nothing called
      }
    } catch (SQLException e) {
      if (sizeChanged(e)) {
        return false;
      }
      throw e;
    }
  }

  /**
   * An event's time as two whole numbers (days since 1970-01-01T00:00Z and microseconds into that
   * day, see {@link #bindEvent}) instead of a {@code timestamptz} parameter: the driver sends an
   * {@code OffsetDateTime} as text that the server parses: 17–35 µs more per statement than two
   * {@code int8}s (statements of each kind taking turns on their own connections), about 6 µs of a
   * lone append's ~270 through the integrator (appends in rotation with the naive row). Exact over
   * the whole {@code timestamptz} range: the only interval parts are microseconds, so no time zone
   * is consulted, and the server's {@code float8} products are exact (86,400,000,000 is 2^13 times
   * an odd number below 2^24, so days × that is exact while |days| < 2^29, and the range is under
   * 2^27 days). Rounded to the microsecond, as the driver rounds a time it sends as text (events
   * carry milliseconds).
   */
  private static final String TIME =
      "TIMESTAMPTZ 'epoch' + ? * INTERVAL '86400 seconds' + ? * INTERVAL '1 microsecond'";

  /** Batches up to this size that complete no tile go through {@link #appendFew}. */
  static final int FEW = 8;

  private static final String[] FEW_SQL = new String[FEW + 1];

  static {
    for (int n = 2; n <= FEW; n++) {
      FEW_SQL[n] =
          ("SELECT audit.append_entry(?, ?, ?, ?, ?, ?, "
                  + TIME
                  + ", ?, ?) WHERE "
                  + SAME_SERVER
                  + ";")
              .repeat(n);
    }
  }

  /**
   * A few entries that complete no tile (two or three appenders meeting in one commit): {@code
   * audit.append_entry} once per entry, in one query string the driver sends in one round trip with
   * one Sync, so the server runs them in one implicit transaction and commits once, as for a lone
   * append. Each call checks that the tree ends where its entry goes, the first under the append
   * lock, which the transaction then holds; if one fails nothing is written. Each call is made only
   * on the node's {@link Server} (the same condition for all: none is made elsewhere). The arrays
   * of {@code audit.append_entries} cost a few entries more than the entries themselves.
   */
  private boolean appendFew(Connection c, long expectedSize, Server server, List<Row> rows)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(FEW_SQL[rows.size()])) {
      int p = 1;
      for (int i = 0; i < rows.size(); i++) {
        Row r = rows.get(i);
        ps.setLong(p++, expectedSize + i);
        ps.setBytes(p++, r.leaf());
        ps.setBytes(p++, r.leafHash());
        p = bindEvent(ps, p, r);
        p = bindServer(ps, p, server);
      }
      ps.execute();
      boolean called;
      try (ResultSet rs = ps.getResultSet()) {
        called = rs.next(); // no row: another server, no call made
      }
      while (ps.getMoreResults() || ps.getUpdateCount() != -1) {
        // every call answers one row; reading them all is reading to the end of the transaction
      }
      return called;
    } catch (SQLException e) {
      if (sizeChanged(e)) {
        return false;
      }
      throw e;
    }
  }

  /**
   * The usual lone append, one entry that completes no tile: one row, one statement, no function
   * and no append lock, in the statement's own autocommit transaction, written only on the node's
   * {@link Server}. That is the same guarantee as the lock and the size check of {@code
   * audit.append_entry}, enforced by the database's constraints: an index already taken, by another
   * node or a writer holding the lock, fails on the primary key (waiting for that writer's
   * transaction first); and on the server where the node saw its tree end at this index, every
   * entry before it is committed and stays, so no gap can appear. (Until 2026-12-07 the statement
   * looked up the entry before instead, {@code WHERE EXISTS} on the primary key.)
   */
  private static final String APPEND_ONE_SQL =
      "INSERT INTO audit.events (idx, leaf, leaf_hash, type, actor, subject, event_time, event,"
          + " salt) SELECT ?, ?, ?, ?, ?, ?, "
          + TIME
          + ", ?, ? WHERE "
          + SAME_SERVER;

  private boolean appendOne(Connection c, long expectedSize, Server server, Row r)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(APPEND_ONE_SQL)) {
      bindServer(ps, bindEntry(ps, expectedSize, r), server);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      if (sizeChanged(e)) {
        return false;
      }
      throw e;
    }
  }

  /** A lone entry completing a tile writes at most this many tiles (levels) in one statement. */
  private static final int MAX_TILES_WITH_ONE = 4;

  private static final String[] ONE_WITH_TILES_SQL = new String[MAX_TILES_WITH_ONE + 1];

  static {
    for (int n = 1; n <= MAX_TILES_WITH_ONE; n++) {
      ONE_WITH_TILES_SQL[n] =
          "WITH e AS ("
              + APPEND_ONE_SQL
              + " RETURNING idx) INSERT INTO audit.tiles (level, idx, width, hashes)"
              + " SELECT t.l, t.i, t.w, t.h FROM e, (VALUES "
              + String.join(
                  ", ",
                  java.util.Collections.nCopies(
                      n,
                      "(CAST(? AS smallint), CAST(? AS bigint), CAST(? AS int), CAST(? AS bytea))"))
              + ") AS t(l, i, w, h)"
              + " ON CONFLICT (level, idx) DO UPDATE SET width = EXCLUDED.width,"
              + " hashes = EXCLUDED.hashes";
    }
  }

  /**
   * A lone entry that completes a tile (one append in 256): the entry, guarded like {@link
   * #appendOne}, and its tiles in one statement, the tiles written only if the entry was — rather
   * than through {@code audit.append_entries}, whose arrays travel as text (a full tile is 8 KB)
   * and whose PL/pgSQL takes about a millisecond more. No lock is needed: the entry's insert
   * succeeds only if this node's edge ends exactly where the tree does, so its tiles are the
   * tree's; a later writer can only rewrite a partial tile with a longer one, after this commit.
   */
  private boolean appendOneWithTiles(
      Connection c, long expectedSize, Server server, Row r, List<Object[]> tiles)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(ONE_WITH_TILES_SQL[tiles.size()])) {
      int p = bindServer(ps, bindEntry(ps, expectedSize, r), server);
      for (Object[] t : tiles) {
        byte[] hashes = (byte[]) t[2];
        ps.setInt(p++, (Integer) t[0]);
        ps.setLong(p++, (Long) t[1]);
        ps.setInt(p++, hashes.length / 32);
        ps.setBytes(p++, hashes);
      }
      return ps.executeUpdate() == tiles.size();
    } catch (SQLException e) {
      if (sizeChanged(e)) {
        return false;
      }
      throw e;
    }
  }

  /**
   * An event time as the driver should send it: a {@code java.sql.Timestamp} is written through a
   * calendar that switches to the Julian calendar before 1582, so an early instant would be stored
   * days away from the one in the event; {@code java.time} types are proleptic, as both databases.
   */
  private static java.time.OffsetDateTime utc(Instant t) {
    return java.time.OffsetDateTime.ofInstant(t, java.time.ZoneOffset.UTC);
  }

  /**
   * Binds the entry at {@code index} as the first ten parameters of {@link #APPEND_ONE_SQL};
   * returns the next parameter.
   */
  private static int bindEntry(PreparedStatement ps, long index, Row r) throws SQLException {
    ps.setLong(1, index);
    ps.setBytes(2, r.leaf());
    ps.setBytes(3, r.leafHash());
    return bindEvent(ps, 4, r);
  }

  /**
   * Binds a row's private event (type, actor, subject, time, event, salt) from parameter {@code p};
   * returns the next parameter.
   */
  private static int bindEvent(PreparedStatement ps, int p, Row r) throws SQLException {
    ps.setString(p++, r.type());
    ps.setString(p++, r.actor());
    ps.setString(p++, r.subject());
    Instant t = r.time();
    ps.setLong(p++, Math.floorDiv(t.getEpochSecond(), 86_400L));
    ps.setLong(
        p++, Math.floorMod(t.getEpochSecond(), 86_400L) * 1_000_000L + (t.getNano() + 500) / 1_000);
    ps.setString(p++, r.event());
    ps.setBytes(p++, r.salt());
    return p;
  }

  /**
   * 40001: the tree does not end where this node thinks; 23505: another node's entries already hold
   * these indices. Either way nothing was written.
   */
  private static boolean sizeChanged(SQLException e) {
    return "40001".equals(e.getSQLState()) || indexTaken(e);
  }

  /** 23505 anywhere in the chain: an index this write meant to take was taken first. */
  static boolean indexTaken(SQLException e) {
    for (SQLException x = e; x != null; x = x.getNextException()) {
      if ("23505".equals(x.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  void upsertTile(Connection c, int level, long index, byte[] hashes) throws SQLException {
    String sql =
        postgres
            ? "INSERT INTO audit.tiles (level, idx, width, hashes) VALUES (?, ?, ?, ?)"
                + " ON CONFLICT (level, idx) DO UPDATE SET width = EXCLUDED.width, hashes = EXCLUDED.hashes"
            : "MERGE INTO audit.tiles (level, idx, width, hashes) KEY (level, idx) VALUES (?, ?, ?, ?)";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setInt(1, level);
      ps.setLong(2, index);
      ps.setInt(3, hashes.length / 32);
      ps.setBytes(4, hashes);
      ps.executeUpdate();
    }
  }

  /**
   * The first {@code width} hashes of a tile, or empty if the tree does not have them yet. A
   * level-0 tile is stored only once it is full: its prefixes are the entries' leaf hashes.
   */
  public Optional<byte[]> tile(Connection c, int level, long index, int width) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT width, hashes FROM audit.tiles WHERE level = ? AND idx = ?")) {
      ps.setInt(1, level);
      ps.setLong(2, index);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getInt(1) >= width) {
          return Optional.of(Arrays.copyOf(rs.getBytes(2), width * 32));
        }
      }
    }
    if (level != 0) {
      return Optional.empty();
    }
    byte[] hashes = leafHashes(c, index * Tiles.WIDTH, width);
    return hashes.length == width * 32 ? Optional.of(hashes) : Optional.empty();
  }

  /** The leaf hashes of entries {@code [from, from + count)}, concatenated; shorter if missing. */
  byte[] leafHashes(Connection c, long from, int count) throws SQLException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(count * 32);
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT idx, leaf_hash FROM audit.events WHERE idx >= ? AND idx < ? ORDER BY idx")) {
      ps.setLong(1, from);
      ps.setLong(2, from + count);
      try (ResultSet rs = ps.executeQuery()) {
        long expect = from;
        while (rs.next() && rs.getLong(1) == expect++) {
          out.writeBytes(rs.getBytes(2));
        }
      }
    }
    return out.toByteArray();
  }

  /** Public leaves {@code [from, from + count)}. */
  public List<byte[]> leaves(Connection c, long from, int count) throws SQLException {
    List<byte[]> out = new ArrayList<>(count);
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT idx, leaf FROM audit.events WHERE idx >= ? AND idx < ? ORDER BY idx")) {
      ps.setLong(1, from);
      ps.setLong(2, from + count);
      try (ResultSet rs = ps.executeQuery()) {
        long expect = from;
        while (rs.next()) {
          if (rs.getLong(1) != expect++) {
            throw new SQLException("gap in audit.entries at " + (expect - 1));
          }
          out.add(rs.getBytes(2));
        }
      }
    }
    return out;
  }

  /**
   * What the log's gauges show, read in one round trip's worth of small indexed queries.
   *
   * @param size entries in the tree
   * @param checkpointSize size of the newest checkpoint (0 when there is none)
   * @param checkpointAt when the newest checkpoint was signed
   * @param oldestUncheckpointed event time of the first entry the newest checkpoint does not cover
   * @param timestampedAt the newest checkpoint time-stamp's genTime
   * @param cosignedAt the newest witness cosignature's time
   * @param outbox rows waiting in the outbox (counted up to 100,000)
   * @param unindexed entries the query index ({@link #indexEvents}) has not reached yet
   */
  public record Gauges(
      long size,
      long checkpointSize,
      Optional<Instant> checkpointAt,
      Optional<Instant> oldestUncheckpointed,
      Optional<Instant> timestampedAt,
      Optional<Instant> cosignedAt,
      long outbox,
      long unindexed) {}

  public Gauges gauges() {
    try (Connection c = connection()) {
      long size = size(c);
      Optional<StoredCheckpoint> cp = latestCheckpoint(c);
      long cpSize = cp.map(StoredCheckpoint::size).orElse(0L);
      Optional<Instant> oldest = Optional.empty();
      if (cpSize < size) {
        try (PreparedStatement ps =
            c.prepareStatement("SELECT event_time FROM audit.events WHERE idx = ?")) {
          ps.setLong(1, cpSize);
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              oldest = Optional.of(rs.getObject(1, java.time.OffsetDateTime.class).toInstant());
            }
          }
        }
      }
      Optional<Instant> stamped = Optional.empty();
      try (PreparedStatement ps =
              c.prepareStatement("SELECT MAX(gen_time) FROM audit.checkpoint_timestamps");
          ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getObject(1) != null) {
          stamped = Optional.of(rs.getObject(1, java.time.OffsetDateTime.class).toInstant());
        }
      }
      Optional<Instant> cosigned = Optional.empty();
      try (PreparedStatement ps =
              c.prepareStatement("SELECT MAX(cosigned_at) FROM audit.cosignatures");
          ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          long t = rs.getLong(1);
          if (!rs.wasNull()) {
            cosigned = Optional.of(Instant.ofEpochSecond(t));
          }
        }
      }
      long outbox;
      try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT COUNT(*) FROM (SELECT 1 FROM audit.outbox LIMIT 100000) waiting");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        outbox = rs.getLong(1);
      }
      long indexed = indexed(c);
      return new Gauges(
          size,
          cpSize,
          cp.map(StoredCheckpoint::createdAt),
          oldest,
          stamped,
          cosigned,
          outbox,
          Math.max(0, size - indexed));
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  /** A stored checkpoint. */
  public record StoredCheckpoint(long size, byte[] root, String note, Instant createdAt) {}

  public Optional<StoredCheckpoint> latestCheckpoint(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT size, root, note, created_at FROM audit.checkpoints ORDER BY size DESC"
                    + " LIMIT 1");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? Optional.of(checkpoint(rs)) : Optional.empty();
    }
  }

  public Optional<StoredCheckpoint> checkpointAt(Connection c, long size) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT size, root, note, created_at FROM audit.checkpoints WHERE size = ?")) {
      ps.setLong(1, size);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(checkpoint(rs)) : Optional.empty();
      }
    }
  }

  private static StoredCheckpoint checkpoint(ResultSet rs) throws SQLException {
    return new StoredCheckpoint(
        rs.getLong(1), rs.getBytes(2), rs.getString(3), rs.getTimestamp(4).toInstant());
  }

  void insertCheckpoint(Connection c, long size, byte[] root, String note) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO audit.checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)")) {
      ps.setLong(1, size);
      ps.setBytes(2, root);
      ps.setString(3, note);
      ps.setTimestamp(4, Timestamp.from(Instant.now()));
      ps.executeUpdate();
    }
  }

  /**
   * Takes the PostgreSQL advisory transaction lock {@code key} if no other transaction holds it; on
   * H2 (embedded: one node) always true, each caller serialising its own process.
   */
  boolean tryAdvisoryLock(Connection c, long key) throws SQLException {
    if (!postgres) {
      return true;
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_xact_lock(?)")) {
      ps.setLong(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** Key of the advisory lock held by the one node asking a TSA for a checkpoint's time-stamp. */
  private static final long TIMESTAMP_LOCK_KEY = 0x7969_6e78_7473_6170L; // "yinxtsap"

  /**
   * Admits this transaction (autocommit off) as the only one, on any node, asking a TSA for a
   * checkpoint's time-stamp until it ends; false if another holds that right now. Two nodes asking
   * at once would each get a token, each recorded by the TSA, and only one stored: the other
   * token's record would then be new evidence to stamp, on and on.
   */
  public boolean tryLockTimestamping(Connection c) throws SQLException {
    return tryAdvisoryLock(c, TIMESTAMP_LOCK_KEY);
  }

  /**
   * Stores the RFC 3161 reply for the checkpoint of {@code size}, in the caller's transaction.
   *
   * @return false if that checkpoint already has one (another node stamped it first)
   */
  public boolean insertTimestamp(Connection c, long size, byte[] reply, Instant genTime, String tsa)
      throws SQLException {
    if (timestamp(c, size).isPresent()) {
      return false;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO audit.checkpoint_timestamps (size, reply, gen_time, tsa)"
                + " VALUES (?, ?, ?, ?)")) {
      ps.setLong(1, size);
      ps.setBytes(2, reply);
      ps.setObject(3, utc(genTime));
      ps.setString(4, tsa);
      ps.executeUpdate();
      return true;
    }
  }

  /** A checkpoint and the RFC 3161 reply over it. */
  public record TimestampedCheckpoint(StoredCheckpoint checkpoint, byte[] reply) {}

  /** The newest checkpoint of at most {@code maxSize} that a TSA has stamped. */
  public Optional<TimestampedCheckpoint> latestTimestamped(Connection c, long maxSize)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT c.size, c.root, c.note, c.created_at, t.reply FROM audit.checkpoints c"
                + " JOIN audit.checkpoint_timestamps t ON t.size = c.size"
                + " WHERE c.size <= ? ORDER BY c.size DESC LIMIT 1")) {
      ps.setLong(1, maxSize);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new TimestampedCheckpoint(checkpoint(rs), rs.getBytes(5)))
            : Optional.empty();
      }
    }
  }

  /** The stored RFC 3161 reply (DER TimeStampResp) for the checkpoint of {@code size}. */
  public Optional<byte[]> timestamp(Connection c, long size) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT reply FROM audit.checkpoint_timestamps WHERE size = ?")) {
      ps.setLong(1, size);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
      }
    }
  }

  /** Cosignature lines stored for the checkpoint at {@code size}. */
  public List<String> cosignatures(Connection c, long size) throws SQLException {
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement("SELECT line FROM audit.cosignatures WHERE size = ? ORDER BY witness")) {
      ps.setLong(1, size);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  void upsertCosignature(Connection c, long size, String witness, String line, long time)
      throws SQLException {
    try (PreparedStatement del =
            c.prepareStatement("DELETE FROM audit.cosignatures WHERE size = ? AND witness = ?");
        PreparedStatement ins =
            c.prepareStatement(
                "INSERT INTO audit.cosignatures (size, witness, line, cosigned_at) VALUES (?, ?, ?, ?)")) {
      del.setLong(1, size);
      del.setString(2, witness);
      del.executeUpdate();
      ins.setLong(1, size);
      ins.setString(2, witness);
      ins.setString(3, line);
      ins.setLong(4, time);
      ins.executeUpdate();
    }
  }

  /** How private event rows are stored. */
  public EventCipher cipher() {
    return cipher;
  }

  /**
   * The canonical encoding of an event from its row ({@code audit.events.event} and {@code salt}):
   * decrypted, or as stored when it was written in clear.
   *
   * @throws AuditException {@code UNAVAILABLE} when an encrypted row does not decrypt
   */
  public String openEvent(String stored, byte[] salt) {
    return cipher.open(stored, salt);
  }

  /**
   * The stored form of an event's canonical encoding, as an append writes it: for tools and tests
   * that act as someone holding the event key would (a re-encrypted forgery must still fail its
   * leaf commitment).
   */
  public String sealEvent(String canonical, byte[] salt) {
    return cipher.seal(canonical, salt);
  }

  /**
   * A private event, decrypted; {@code event} is {@code null} when its row does not decrypt
   * (changed, moved from another row, or under a key that is gone).
   */
  public record StoredEvent(long index, String event, byte[] salt, byte[] leaf) {}

  private StoredEvent storedEvent(ResultSet rs) throws SQLException {
    byte[] salt = rs.getBytes(3);
    String event;
    try {
      event = cipher.open(rs.getString(2), salt);
    } catch (AuditException e) {
      event = null;
    }
    return new StoredEvent(rs.getLong(1), event, salt, rs.getBytes(4));
  }

  /** The events with indices in [from, to), oldest first, each with its public leaf. */
  public List<StoredEvent> eventsBetween(Connection c, long from, long to) throws SQLException {
    List<StoredEvent> out = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT idx, event, salt, leaf FROM audit.events WHERE idx >= ? AND idx < ?"
                + " ORDER BY idx")) {
      ps.setLong(1, from);
      ps.setLong(2, to);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(storedEvent(rs));
        }
      }
    }
    return out;
  }

  /**
   * Events matching a query, oldest first, at most {@code limit}. With a subject or a type, the
   * entries {@link #indexEvents} has indexed are found through {@code audit.event_keys}, and the
   * newest ones it has not reached yet are read from {@code audit.events} itself: the indexed part
   * is a prefix of the log ({@code [0, w)}, {@code w} read first and only growing), so the two
   * reads miss nothing and return nothing twice.
   */
  public List<StoredEvent> events(
      Connection c,
      Optional<String> subject,
      Optional<String> type,
      Optional<Instant> from,
      Optional<Instant> to,
      long maxIndex,
      int limit)
      throws SQLException {
    List<StoredEvent> out = new ArrayList<>();
    if (subject.isEmpty() && type.isEmpty()) {
      query(c, "audit.events v", 0, maxIndex, subject, type, from, to, limit, out);
      return out;
    }
    long indexed = indexed(c);
    query(
        c,
        "audit.event_keys k JOIN audit.events v ON v.idx = k.idx",
        0,
        Math.min(indexed, maxIndex),
        subject,
        type,
        from,
        to,
        limit,
        out);
    if (out.size() < limit && indexed < maxIndex) {
      query(
          c, "audit.events v", indexed, maxIndex, subject, type, from, to, limit - out.size(), out);
    }
    return out;
  }

  /**
   * Adds the rows of {@code from} (aliased {@code k} when it is the index, else {@code v}) with
   * indices in {@code [min, max)} that match, oldest first, up to {@code limit}, to {@code out}.
   */
  private void query(
      Connection c,
      String from,
      long min,
      long max,
      Optional<String> subject,
      Optional<String> type,
      Optional<Instant> after,
      Optional<Instant> before,
      int limit,
      List<StoredEvent> out)
      throws SQLException {
    if (min >= max) {
      return;
    }
    String a = from.startsWith("audit.event_keys") ? "k" : "v";
    StringBuilder sql =
        new StringBuilder("SELECT v.idx, v.event, v.salt, v.leaf FROM ")
            .append(from)
            .append(" WHERE ")
            .append(a)
            .append(".idx >= ? AND ")
            .append(a)
            .append(".idx < ?");
    List<Object> args = new ArrayList<>(List.of(min, max));
    subject.ifPresent(
        s -> {
          sql.append(" AND ").append(a).append(".subject = ?");
          args.add(s);
        });
    type.ifPresent(
        t -> {
          sql.append(" AND ").append(a).append(".type = ?");
          args.add(t);
        });
    after.ifPresent(
        f -> {
          sql.append(" AND ").append(a).append(".event_time >= ?");
          args.add(utc(f));
        });
    before.ifPresent(
        t -> {
          sql.append(" AND ").append(a).append(".event_time < ?");
          args.add(utc(t));
        });
    sql.append(" ORDER BY ").append(a).append(".idx LIMIT ").append(limit);
    try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
      for (int k = 0; k < args.size(); k++) {
        ps.setObject(k + 1, args.get(k));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(storedEvent(rs));
        }
      }
    }
  }

  /**
   * Indexes up to {@code max} entries not yet in {@code audit.event_keys} (their type, subject and
   * time), oldest first, in one statement, and returns how many. Called after appends were
   * acknowledged (the checkpoint job does, every round), so an append writes only its own row. The
   * committed entries are always a prefix of the log, and so is what this adds: two nodes doing it
   * at once insert the same rows, and the second skips those the first holds (waiting for its
   * commit first), so no gap opens in the index.
   */
  public int indexEvents(int max) {
    String sql =
        "INSERT INTO audit.event_keys (idx, type, subject, event_time)"
            + " SELECT idx, type, subject, event_time FROM audit.events"
            + " WHERE idx >= (SELECT COALESCE(MAX(idx) + 1, 0) FROM audit.event_keys)"
            + " ORDER BY idx LIMIT ?"
            + (postgres ? " ON CONFLICT (idx) DO NOTHING" : "");
    try (Connection c = connection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      c.setAutoCommit(true);
      ps.setInt(1, max);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  /**
   * Indexes what is not indexed yet, {@code batch} entries per statement ({@link #indexEvents}),
   * until a statement finds fewer than {@code batch} or {@code budgetNanos} have passed (one
   * statement at least); returns how many. However fast the log grows, the index keeps up with it,
   * at whatever interval this is called.
   */
  public long indexCaughtUp(int batch, long budgetNanos) {
    long start = System.nanoTime();
    long total = 0;
    int n;
    do {
      n = indexEvents(batch);
      total += n;
    } while (n == batch && System.nanoTime() - start < budgetNanos);
    return total;
  }

  /** Entries not in {@code audit.event_keys} yet (tests; the gauges report it too). */
  public long unindexed() {
    try (Connection c = connection()) {
      return size(c) - indexed(c);
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  /** How many entries the query index holds: its entries are always {@code [0, indexed)}. */
  private static long indexed(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement("SELECT COALESCE(MAX(idx) + 1, 0) FROM audit.event_keys");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static AuditException unavailable(SQLException e) {
    return new AuditException(Code.UNAVAILABLE, "audit store: " + e.getSQLState(), e);
  }

  static int tileWidth(long hashesAtLevel, long tileIndex) {
    return (int) Math.min(Tiles.WIDTH, hashesAtLevel - tileIndex * Tiles.WIDTH);
  }
}
