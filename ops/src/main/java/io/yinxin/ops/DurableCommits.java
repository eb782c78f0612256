package io.yinxin.ops;

import com.zaxxer.hikari.HikariDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.stereotype.Component;

/**
 * Every PostgreSQL session of the node commits durably, whatever the database says. With {@code
 * synchronous_commit = off} set for the server, the database or the role (a common tuning tip), a
 * commit returns before its WAL is flushed, and a crash of the database server loses the last
 * commits it acknowledged: audit receipts, certificates, revocations, tokens. So each connection
 * the node's pool opens sets it back to {@code on} for its session when, and only when, it found it
 * {@code off}; a stronger setting ({@code remote_write}, {@code remote_apply}, or {@code on} with a
 * synchronous standby) is left as the operator chose it. An init statement the operator configured
 * ({@code spring.datasource.hikari.connection-init-sql}) still runs, after this one.
 *
 * <p>{@code fsync = off} is the server's alone and cannot be undone per session; the audit log
 * reports it when it opens ({@code event=audit_commits_not_durable}). H2 has no such setting: the
 * log and the CA make it write each acknowledged commit to the file themselves.
 */
@Component
class DurableCommits implements BeanPostProcessor {
  private static final Logger log = LoggerFactory.getLogger(DurableCommits.class);

  /** Run once on each new connection, before the pool hands it out. */
  static final String INIT_SQL =
      "SELECT set_config('synchronous_commit', 'on', false)"
          + " WHERE current_setting('synchronous_commit') = 'off'";

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName) {
    if (bean instanceof HikariDataSource ds) {
      apply(ds);
    }
    return bean;
  }

  /**
   * Adds {@link #INIT_SQL} to a PostgreSQL pool that has not started yet (after its properties were
   * bound, so an operator's own init statement is kept; the pool starts at its first connection).
   */
  static void apply(HikariDataSource ds) {
    String url = ds.getJdbcUrl();
    if (url == null || !url.startsWith("jdbc:postgresql:")) {
      return;
    }
    String own = ds.getConnectionInitSql();
    ds.setConnectionInitSql(own == null || own.isBlank() ? INIT_SQL : INIT_SQL + "; " + own);
    log.debug("event=durable_commits_ensured pool={}", ds.getPoolName());
  }
}
