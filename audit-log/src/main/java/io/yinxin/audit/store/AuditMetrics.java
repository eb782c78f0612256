package io.yinxin.audit.store;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The evidence log's event metrics on Micrometer's global registry (a node's Prometheus registry
 * joins it): {@code yinxin_audit_appends_total{result}}, {@code yinxin_audit_integration_batch}
 * (entries per commit), {@code yinxin_audit_checkpoints_total}, {@code
 * yinxin_audit_checkpoint_timestamps_total{result}}, {@code
 * yinxin_audit_witness_cosignatures_total{witness}} and {@code yinxin_audit_entries_lost_total}.
 * The state of the log (size, checkpoint age, lag) is read from the database by {@code
 * io.yinxin.audit.spring.AuditLogMetrics}, so every node reports the same.
 */
public final class AuditMetrics {
  private static final MeterRegistry REGISTRY = Metrics.globalRegistry;
  private static final Counter APPENDED = appends("ok");
  private static final Counter FAILED = appends("failed");
  private static final DistributionSummary BATCH =
      DistributionSummary.builder("yinxin.audit.integration.batch")
          .description("Entries made durable by one commit of the integrator")
          .baseUnit("entries")
          .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
          .register(REGISTRY);
  private static final Counter CHECKPOINTS =
      Counter.builder("yinxin.audit.checkpoints")
          .description("Checkpoints this node signed and published")
          .register(REGISTRY);
  private static final Counter STAMPED = timestamps("ok");
  private static final Counter STAMP_FAILED = timestamps("failed");
  private static final Map<String, Counter> COSIGNATURES = new ConcurrentHashMap<>();
  private static final Counter LOST =
      Counter.builder("yinxin.audit.entries.lost")
          .description(
              "Entries this node had seen committed that the database no longer held when it found"
                  + " the tree on another server (a restore, a standby that lagged)")
          .register(REGISTRY);

  private AuditMetrics() {}

  private static Counter appends(String result) {
    return Counter.builder("yinxin.audit.appends")
        .description("Audit entries integrated (ok) or refused after they were queued (failed)")
        .tag("result", result)
        .register(REGISTRY);
  }

  private static Counter timestamps(String result) {
    return Counter.builder("yinxin.audit.checkpoint.timestamps")
        .description("RFC 3161 time-stamps of checkpoints obtained (ok) or failed")
        .tag("result", result)
        .register(REGISTRY);
  }

  static void integrated(int entries) {
    if (entries > 0) {
      APPENDED.increment(entries);
      BATCH.record(entries);
    }
  }

  static void failed(int entries) {
    FAILED.increment(entries);
  }

  static void lost(long entries) {
    LOST.increment(entries);
  }

  static void checkpointPublished() {
    CHECKPOINTS.increment();
  }

  public static void timestamped(boolean ok) {
    (ok ? STAMPED : STAMP_FAILED).increment();
  }

  static void cosigned(String witness) {
    COSIGNATURES
        .computeIfAbsent(
            witness,
            w ->
                Counter.builder("yinxin.audit.witness.cosignatures")
                    .description("Witness cosignatures accepted, per witness")
                    .tag("witness", w)
                    .register(REGISTRY))
        .increment();
  }
}
