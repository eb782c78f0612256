package io.yinxin.hsm;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Key-use metrics on Micrometer's global registry (a Spring Boot node adds its Prometheus registry
 * to it): {@code yinxin_keys_sign_seconds} (a histogram per backend and algorithm) and {@code
 * yinxin_keys_sign_errors_total} (per backend, algorithm and error code). Without a registry they
 * cost a map lookup.
 */
final class KeyMetrics {
  private static final MeterRegistry REGISTRY = Metrics.globalRegistry;

  /**
   * Per backend and algorithm, by ordinal: a signature looks its timer up without allocating (a
   * race registers the same meter twice, which Micrometer answers with the one meter).
   */
  private static final Timer[][] TIMERS =
      new Timer[KeyRef.Scheme.values().length][SignatureAlgorithm.values().length];

  private static final Map<String, Counter> ERRORS = new ConcurrentHashMap<>();

  /** Histogram buckets from a soft key's 50 µs to a remote HSM's seconds. */
  private static final Duration[] BUCKETS = {
    Duration.ofNanos(50_000),
    Duration.ofNanos(100_000),
    Duration.ofNanos(250_000),
    Duration.ofNanos(500_000),
    Duration.ofMillis(1),
    Duration.ofMillis(2),
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofSeconds(2),
    Duration.ofSeconds(5)
  };

  private KeyMetrics() {}

  static void signed(KeyRef.Scheme scheme, SignatureAlgorithm alg, long nanos) {
    Timer t = TIMERS[scheme.ordinal()][alg.ordinal()];
    if (t == null) {
      t =
          Timer.builder("yinxin.keys.sign")
              .description("Signatures made by the key backends")
              .tag("backend", scheme.uriScheme())
              .tag("algorithm", alg.name())
              .serviceLevelObjectives(BUCKETS)
              .register(REGISTRY);
      TIMERS[scheme.ordinal()][alg.ordinal()] = t;
    }
    t.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  static void failed(KeyRef.Scheme scheme, SignatureAlgorithm alg, RuntimeException e) {
    String code = e instanceof KeyException k ? k.code().name() : "INTERNAL";
    ERRORS
        .computeIfAbsent(
            scheme.uriScheme() + ' ' + alg.name() + ' ' + code,
            k ->
                Counter.builder("yinxin.keys.sign.errors")
                    .description("Signatures a key backend refused or failed to make")
                    .tag("backend", scheme.uriScheme())
                    .tag("algorithm", alg.name())
                    .tag("code", code)
                    .register(REGISTRY))
        .increment();
  }
}
