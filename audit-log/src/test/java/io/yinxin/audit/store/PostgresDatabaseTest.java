package io.yinxin.audit.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A test run drops only the databases no live run can be using. */
class PostgresDatabaseTest {
  @Test
  void onlyDatabasesOfEndedOrDayOldRunsAreDropped() {
    long me = ProcessHandle.current().pid();
    long now = java.time.Instant.now().getEpochSecond();
    assertThat(PostgresDatabase.abandoned("yinxin_test_" + me + "_" + now + "_0a1b2c_3")).isFalse();
    assertThat(PostgresDatabase.abandoned("yinxin_test_" + me + "_" + (now - 90_000) + "_0a1b2c_3"))
        .isTrue();
    long gone =
        java.util.stream.LongStream.iterate(4_000_000L, p -> p + 1)
            .filter(p -> ProcessHandle.of(p).isEmpty())
            .findFirst()
            .orElseThrow();
    assertThat(PostgresDatabase.abandoned("yinxin_test_" + gone + "_" + now + "_0a1b2c_3"))
        .isTrue();
    assertThat(PostgresDatabase.abandoned("yinxin_test_e5ea680eb9_21")).isTrue(); // older scheme
  }
}
