package io.yinxin.audit.spring;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.yinxin.audit.store.CheckpointPublisher;
import io.yinxin.audit.store.LogStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.IntSupplier;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The evidence log's state as gauges, read from the database (so every node hosting the log reports
 * the same) at most once a second:
 *
 * <ul>
 *   <li>{@code yinxin_audit_tree_size_entries}, {@code yinxin_audit_checkpoint_size_entries}
 *   <li>{@code yinxin_audit_checkpoint_age_seconds}: since the newest checkpoint was signed
 *   <li>{@code yinxin_audit_checkpoint_lag_seconds}: how long the oldest entry no checkpoint covers
 *       has waited (0 when every entry is covered): the append-to-checkpoint lag
 *   <li>{@code yinxin_audit_checkpoint_timestamp_age_seconds}: since the newest checkpoint
 *       time-stamp's genTime (NaN before the first)
 *   <li>{@code yinxin_audit_witness_cosignature_age_seconds}: since the newest witness cosignature
 *       (NaN before the first)
 *   <li>{@code yinxin_audit_queued_entries}: events waiting for the integrator (this node's queue
 *       and the shared outbox)
 *   <li>{@code yinxin_audit_index_lag_entries}: entries the evidence-bundle query index has not
 *       reached yet (filled by the checkpoint job every round; a bundle query reads those from the
 *       log itself, so a growing value means slower queries, not missing answers)
 *   <li>{@code yinxin_audit_publication_halted}: 1 when the log stopped signing because its tree
 *       was inconsistent with a published checkpoint
 * </ul>
 *
 * While the database cannot be read every gauge is NaN, which no alert threshold matches; the
 * database and health alerts cover that case.
 */
public class AuditLogMetrics implements MeterBinder {
  private static final Logger log = LoggerFactory.getLogger(AuditLogMetrics.class);
  private static final long FRESH_NANOS = 1_000_000_000L;

  private final LogStore store;
  private final IntSupplier queued;
  private final CheckpointPublisher publisher;
  private final Clock clock;
  private LogStore.Gauges last;
  private long lastAt;
  private boolean lastFailed;

  public AuditLogMetrics(LogStore store, IntSupplier queued, CheckpointPublisher publisher) {
    this(store, queued, publisher, Clock.systemUTC());
  }

  AuditLogMetrics(LogStore store, IntSupplier queued, CheckpointPublisher publisher, Clock clock) {
    this.store = store;
    this.queued = queued;
    this.publisher = publisher;
    this.clock = clock;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    gauge(registry, "yinxin.audit.tree.size", "entries", "Entries in the log", g -> g.size());
    gauge(
        registry,
        "yinxin.audit.checkpoint.size",
        "entries",
        "Size of the newest signed checkpoint",
        g -> g.checkpointSize());
    gauge(
        registry,
        "yinxin.audit.checkpoint.age",
        "seconds",
        "Seconds since the newest checkpoint was signed",
        g -> age(g.checkpointAt()));
    gauge(
        registry,
        "yinxin.audit.checkpoint.lag",
        "seconds",
        "Seconds the oldest entry no checkpoint covers has waited (0: all covered)",
        g -> g.checkpointSize() >= g.size() ? 0 : age(g.oldestUncheckpointed()));
    gauge(
        registry,
        "yinxin.audit.checkpoint.timestamp.age",
        "seconds",
        "Seconds since the newest checkpoint time-stamp was made",
        g -> age(g.timestampedAt()));
    gauge(
        registry,
        "yinxin.audit.witness.cosignature.age",
        "seconds",
        "Seconds since the newest witness cosignature",
        g -> age(g.cosignedAt()));
    gauge(
        registry,
        "yinxin.audit.index.lag",
        "entries",
        "Entries the evidence-bundle query index has not reached yet",
        g -> g.unindexed());
    Gauge.builder(
            "yinxin.audit.queued",
            this,
            m -> {
              LogStore.Gauges g = m.read();
              return g == null ? Double.NaN : g.outbox() + (double) queued.getAsInt();
            })
        .description("Events waiting for the integrator (this node's queue and the outbox)")
        .baseUnit("entries")
        .register(registry);
    Gauge.builder("yinxin.audit.publication.halted", this, m -> m.halted() ? 1 : 0)
        .description("1 when checkpoint publication stopped on an inconsistency")
        .register(registry);
  }

  private boolean halted() {
    return publisher.halted().isPresent();
  }

  private void gauge(
      MeterRegistry registry,
      String name,
      String unit,
      String description,
      ToDoubleFunction<LogStore.Gauges> value) {
    Gauge.builder(
            name,
            this,
            m -> {
              LogStore.Gauges g = m.read();
              return g == null ? Double.NaN : value.applyAsDouble(g);
            })
        .description(description)
        .baseUnit(unit)
        .register(registry);
  }

  private double age(Optional<Instant> t) {
    return t.map(i -> Duration.between(i, clock.instant()).toMillis() / 1000.0).orElse(Double.NaN);
  }

  private synchronized LogStore.Gauges read() {
    long now = System.nanoTime();
    if (lastAt != 0 && now - lastAt < FRESH_NANOS) {
      return last;
    }
    lastAt = now;
    try {
      last = store.gauges();
      lastFailed = false;
    } catch (RuntimeException e) {
      if (!lastFailed) {
        log.warn("event=audit_metrics_unreadable reason={}", e.getClass().getSimpleName());
      }
      lastFailed = true;
      last = null;
    }
    return last;
  }
}
