package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The embedded default stops cleanly: its background jobs (status feed, CRL and OCSP upkeep,
 * checkpoints) stop and finish before the H2 database closes, so stopping logs no failed poll, no
 * failed checkpoint and no "database is already closed".
 */
@ExtendWith(OutputCaptureExtension.class)
class CleanShutdownTest {

  @Test
  void stoppingTheEmbeddedNodeLogsNoJobFailingAgainstAClosedDatabase(CapturedOutput output)
      throws Exception {
    String data = Files.createTempDirectory("yinxin-stop-").toString();
    ConfigurableApplicationContext ctx =
        new SpringApplicationBuilder(YinxinApplication.class)
            .run(
                "--server.port=0",
                "--yinxin.data-dir=" + data,
                "--yinxin.audit.checkpoint-interval=20ms");
    // Stop once the checkpoint job (every 20 ms) has published: its next round is in flight.
    io.yinxin.audit.store.LogStore store = ctx.getBean(io.yinxin.audit.store.LogStore.class);
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(20))
        .until(
            () -> {
              try (var c = store.connection()) {
                return store.latestCheckpoint(c).isPresent();
              }
            });
    ctx.close();
    assertThat(output.getAll())
        .doesNotContain("status_poll_failed")
        .doesNotContain("audit_checkpoint_failed")
        .doesNotContain("crl_refresh_failed")
        .doesNotContain("already closed");
  }
}
