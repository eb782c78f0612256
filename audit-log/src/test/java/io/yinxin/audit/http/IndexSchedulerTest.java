package io.yinxin.audit.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A node fills its query index behind the appends on its own schedule: with checkpoints an hour
 * apart, what is appended is still indexed within a second or so, so evidence-bundle queries never
 * scan a growing unindexed tail.
 */
@SpringBootTest(classes = TestApp.class, webEnvironment = SpringBootTest.WebEnvironment.NONE)
class IndexSchedulerTest {
  private static final PostgresDatabase DB = database();

  private static PostgresDatabase database() {
    try {
      return new PostgresDatabase();
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("PostgreSQL must run on 127.0.0.1:5432", e);
    }
  }

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    String data = Files.createTempDirectory("yinxin-index-").toString();
    r.add("spring.datasource.url", DB::url);
    r.add("spring.datasource.username", () -> PostgresDatabase.USER);
    r.add("spring.flyway.enabled", () -> "false");
    r.add("yinxin.data-dir", () -> data);
    r.add("yinxin.audit.origin", () -> "yinxin.test/index");
    r.add("yinxin.audit.checkpoint-interval", () -> "1h");
  }

  @Autowired AuditLog log;
  @Autowired LogStore store;

  @Test
  void appendsAreIndexedWithoutWaitingForACheckpoint() {
    long last = 0;
    for (int i = 0; i < 50; i++) {
      last =
          log.append(
                  AuditEvent.of(
                      EventType.KEY_USED, "test", "subject-" + (i % 5), Map.of("n", "" + i)))
              .index();
    }
    long size = last + 1;
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(store.unindexed()).isZero());
    LogStore.Gauges g = store.gauges();
    assertThat(g.size()).isEqualTo(size);
    // Not the checkpoint job's doing: it ran once, at start, before these appends.
    assertThat(g.checkpointSize()).isLessThan(size);
  }
}
