package io.yinxin.audit.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SIGKILL between a change's commit and its integration into the log: a process makes changes and
 * records their events through the outbox (the log in its own database), and is killed while four
 * writers are busy. After a restart: every committed change has exactly one entry, no change that
 * rolled back has one, and each writer's entries are in the order it committed them — on PostgreSQL
 * and on the embedded default's H2 file database.
 */
class OutboxCrashTest {

  static Stream<Arguments> databases() throws Exception {
    return Stream.of(
        Arguments.of("postgresql", new PostgresDatabase().url(), PostgresDatabase.USER),
        Arguments.of(
            "h2",
            CrashRecoveryTest.embeddedH2Url(Files.createTempDirectory("yinxin-outbox-h2-")),
            "sa"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("databases")
  void committedChangesGetExactlyOneEntryAfterASigkillAndRolledBackOnesNone(
      String name, String url, String user) throws Exception {
    try (HikariDataSource ds = OutboxWriter.dataSource(url, user)) {
      OutboxCrashTestSupport.createChangesTable(ds);
    }
    OutboxCrashTestSupport.Outcome outcome =
        OutboxCrashTestSupport.runAndKill(List.of("local", url, user), Map.of(), 400);
    try (HikariDataSource ds = OutboxWriter.dataSource(url, user)) {
      LogStore store = LogStore.open(ds);
      long leftOver = OutboxCrashTestSupport.count(ds, "SELECT count(*) FROM audit.outbox");
      assertThat(leftOver)
          .as("committed rows the killed process had not integrated: the kill fell in between")
          .isGreaterThanOrEqualTo(5);
      Integrator restarted = new Integrator(store, 500, 10_000);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> OutboxCrashTestSupport.count(ds, "SELECT count(*) FROM audit.outbox") == 0);
      OutboxCrashTestSupport.verify(outcome, ds, ds);
      restarted.close();
    }
  }
}
