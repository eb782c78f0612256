package io.yinxin.audit;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * The transactional form of {@link AuditLog}: a change and its evidence are one unit. A caller
 * records its event through the connection of its own open transaction (in the database that holds
 * the log); if that transaction rolls back, no entry ever claims the change; once it commits, the
 * log integrates the event even if this process dies first. After committing, the caller waits for
 * the receipt with {@link #await} and only then answers its own client.
 *
 * <pre>{@code
 * Pending p = store.inTransaction(c -> { change(c); return outbox.record(c, event); });
 * Receipt r = outbox.await(p);
 * }</pre>
 *
 * Guarantees: no entry for a change that did not commit; no committed change without its entry
 * after recovery; entries of one caller in the order that caller committed them; each recorded
 * event integrated exactly once.
 */
public interface AuditOutbox {
  /** A recorded event, not yet in the log. */
  record Pending(long id) {}

  /**
   * Writes {@code event} into the outbox inside the caller's transaction on {@code c}. Does not
   * commit.
   *
   * @throws AuditException {@code INVALID_EVENT} for an event that is too large, {@code
   *     UNAVAILABLE} when the row cannot be written (the caller's transaction should roll back)
   */
  Pending record(Connection c, AuditEvent event);

  /**
   * After the caller's commit: returns once the event is durably in the log.
   *
   * @throws AuditException {@code UNAVAILABLE} if it is not integrated in time; the event stays in
   *     the outbox and will be integrated, so the change it describes is not undone
   */
  Receipt await(Pending pending);

  /** A change made on the caller's connection, returning its recorded event (or null for none). */
  @FunctionalInterface
  interface Change {
    Pending apply(Connection c) throws SQLException;
  }

  /**
   * The usual shape of a change with its evidence: {@code change} runs in one transaction on a
   * connection of {@code dataSource} (rolled back on any exception), then, after the commit, this
   * waits until its event is in the log.
   *
   * @throws SQLException when the transaction cannot be run or committed (nothing was changed)
   */
  default void commit(DataSource dataSource, Change change) throws SQLException {
    Pending pending;
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        pending = change.apply(c);
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    }
    if (pending != null) {
      await(pending);
    }
  }
}
