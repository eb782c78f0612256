package io.yinxin.sign;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The signing service's metrics on Micrometer's global registry (a node's Prometheus registry joins
 * it):
 *
 * <ul>
 *   <li>{@code yinxin_sign_seals_total{level,result}}: result ok, error or the refusal's code (e.g.
 *       invalid_request)
 *   <li>{@code yinxin_sign_seal_seconds{level}}: a histogram of successful seals, the audit event
 *       made durable included
 *   <li>{@code yinxin_sign_tsa_tokens_total{result}}: granted, rejected (a bad request) or error
 *       (the TSA could not sign)
 *   <li>{@code yinxin_sign_busy_total{gate}}: requests answered 503 {@code BUSY} because as many
 *       documents as allowed were in work, per gate ({@code seal}, {@code validation})
 *   <li>{@code yinxin_sign_limited_total{gate}}: requests answered 429 {@code RATE_LIMITED} because
 *       their client address already had as many documents in work as one address may
 * </ul>
 */
public final class SignMetrics {
  private static final MeterRegistry REGISTRY = Metrics.globalRegistry;
  private static final Map<String, Counter> COUNTERS = new ConcurrentHashMap<>();
  private static final Map<String, Timer> TIMERS = new ConcurrentHashMap<>();

  private SignMetrics() {}

  static {
    // Every level's success and failure series exist from the start, at 0, so rates and ratios
    // are defined before the first seal.
    for (io.yinxin.sign.pades.SealOptions.Level l :
        io.yinxin.sign.pades.SealOptions.Level.values()) {
      seals(l.label(), "ok");
      seals(l.label(), "error");
      sealTimer(l.label());
    }
    for (String r : new String[] {"granted", "rejected", "error"}) {
      tokens(r);
    }
    for (String g : new String[] {"seal", "validation"}) {
      busyCounter(g);
    }
    limitedCounter("validation");
  }

  /** Loads the class, so the series above exist (at 0) from the node's start. */
  public static void init() {
    // the static initializer did the work
  }

  public static void sealed(String level, String result, long nanos) {
    seals(level, result).increment();
    if ("ok".equals(result)) {
      sealTimer(level).record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  public static void timestamp(String result) {
    tokens(result).increment();
  }

  /** A request the named document gate refused (503 BUSY). */
  public static void busy(String gate) {
    busyCounter(gate).increment();
  }

  /** A request the named gate refused because its address had its share in work (429). */
  public static void limited(String gate) {
    limitedCounter(gate).increment();
  }

  private static Counter limitedCounter(String gate) {
    return counter(
        "yinxin.sign.limited",
        "Requests refused because their client address had as many documents in work as allowed",
        "gate",
        gate);
  }

  private static Counter busyCounter(String gate) {
    return counter(
        "yinxin.sign.busy",
        "Requests refused because as many documents as allowed were in work",
        "gate",
        gate);
  }

  private static Counter seals(String level, String result) {
    return COUNTERS.computeIfAbsent(
        "seal " + level + ' ' + result,
        k ->
            Counter.builder("yinxin.sign.seals")
                .description("Seal requests by PAdES level and result")
                .tag("level", level)
                .tag("result", result)
                .register(REGISTRY));
  }

  private static Timer sealTimer(String level) {
    return TIMERS.computeIfAbsent(
        level,
        l ->
            Timer.builder("yinxin.sign.seal")
                .description("Time to seal a document, its evidence durable")
                .tag("level", l)
                .serviceLevelObjectives(
                    Duration.ofMillis(10),
                    Duration.ofMillis(25),
                    Duration.ofMillis(50),
                    Duration.ofMillis(100),
                    Duration.ofMillis(250),
                    Duration.ofMillis(500),
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(2),
                    Duration.ofSeconds(5),
                    Duration.ofSeconds(10),
                    Duration.ofSeconds(30),
                    Duration.ofSeconds(60))
                .register(REGISTRY));
  }

  private static Counter tokens(String result) {
    return counter(
        "yinxin.sign.tsa.tokens",
        "RFC 3161 requests answered by the TSA, by result",
        "result",
        result);
  }

  /** A counter with one tag, registered once. */
  private static Counter counter(String name, String description, String tag, String value) {
    return COUNTERS.computeIfAbsent(
        name + ' ' + value,
        k -> Counter.builder(name).description(description).tag(tag, value).register(REGISTRY));
  }
}
