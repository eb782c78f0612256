package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * A database whose {@code synchronous_commit} is {@code off} (here set for the database, as a
 * tuning tip would) acknowledges commits before their WAL is flushed; the node's sessions set it
 * back to {@code on}, on PostgreSQL itself.
 */
@ExtendWith(OutputCaptureExtension.class)
class DurableCommitsTest {

  /** A fresh test database with {@code synchronous_commit} set to {@code value} for it. */
  private static PostgresDatabase database(String value) throws Exception {
    PostgresDatabase db = new PostgresDatabase();
    String name = db.url().substring(db.url().lastIndexOf('/') + 1);
    try (HikariDataSource ds = db.pool(1);
        Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("ALTER DATABASE " + name + " SET synchronous_commit = " + value);
    }
    return db;
  }

  private static String show(DataSource ds, String setting) throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW " + setting)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void theNodesSessionsCommitDurablyOnADatabaseSetToCommitWithoutWaiting(CapturedOutput output)
      throws Exception {
    PostgresDatabase db = database("off");
    try (HikariDataSource plain = db.pool(2);
        HikariDataSource node = db.pool(2)) {
      DurableCommits.apply(node);
      assertThat(show(plain, "synchronous_commit")).isEqualTo("off");
      assertThat(show(node, "synchronous_commit")).isEqualTo("on");
      // The audit log opened on the node's pool has nothing to warn of; on the plain one it does.
      LogStore.open(node);
      assertThat(output).doesNotContain("event=audit_commits_not_durable");
      LogStore.open(plain);
      assertThat(output).contains("event=audit_commits_not_durable synchronous_commit=off");
    }
  }

  /** A stronger setting is the operator's choice (a synchronous standby's), and stays. */
  @Test
  void aStrongerSettingIsLeftAsItIs() throws Exception {
    PostgresDatabase db = database("remote_apply");
    try (HikariDataSource node = db.pool(1)) {
      DurableCommits.apply(node);
      assertThat(show(node, "synchronous_commit")).isEqualTo("remote_apply");
    }
  }

  /**
   * Through Spring Boot's own data source, as the node makes it: the statement is added after the
   * pool's properties are bound, so the operator's init statement runs too; H2 is left alone.
   */
  @Test
  void springBootsPoolGetsItBesideTheOperatorsOwnInitStatement() throws Exception {
    PostgresDatabase db = database("off");
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class))
        .withBean(DurableCommits.class)
        .withPropertyValues(
            "spring.datasource.url=" + db.url(),
            "spring.datasource.username=" + PostgresDatabase.USER,
            "spring.datasource.hikari.connection-init-sql=SET application_name = 'operator'")
        .run(
            ctx -> {
              DataSource ds = ctx.getBean(DataSource.class);
              assertThat(show(ds, "synchronous_commit")).isEqualTo("on");
              assertThat(show(ds, "application_name")).isEqualTo("operator");
            });
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class))
        .withBean(DurableCommits.class)
        .withPropertyValues("spring.datasource.url=jdbc:h2:mem:durable-commits")
        .run(
            ctx -> assertThat(ctx.getBean(HikariDataSource.class).getConnectionInitSql()).isNull());
  }
}
