package io.yinxin.ca;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CA's event metrics on Micrometer's global registry (a node's Prometheus registry joins it):
 *
 * <ul>
 *   <li>{@code yinxin_ca_certificates_issued_total{ca,profile}}
 *   <li>{@code yinxin_ca_revocations_total{ca,reason}}
 *   <li>{@code yinxin_ca_ocsp_responses_total{status,source}}: status good, revoked, unknown,
 *       several, malformed, unauthorized, try_later or internal_error; source cached (an answer
 *       signed before) or signed (signed for this request)
 *   <li>{@code yinxin_ca_ocsp_limited_total}: requests answered {@code tryLater} because their
 *       client address, or the node, had asked for too many answers signed on request
 *   <li>{@code yinxin_ca_acme_orders_total{event,result}}: event created or finalized
 * </ul>
 *
 * Counters are per node; Prometheus sums them across nodes. The state (CRL ages) is read from the
 * database by {@code io.yinxin.ca.spring.CaStateMetrics}.
 */
public final class CaMetrics {
  private static final MeterRegistry REGISTRY = Metrics.globalRegistry;
  private static final Map<String, Counter> COUNTERS = new ConcurrentHashMap<>();

  private CaMetrics() {}

  /** The ACME series exist from the start, at 0, so rates are defined before the first order. */
  public static void init() {
    for (String event : new String[] {"created", "finalized"}) {
      for (String result : new String[] {"ok", "error"}) {
        counter(
            "yinxin.ca.acme.orders",
            "ACME orders created or finalized",
            "event",
            event,
            "result",
            result);
      }
    }
  }

  public static void issued(String ca, String profile) {
    counter("yinxin.ca.certificates.issued", "Certificates issued", "ca", ca, "profile", profile)
        .increment();
  }

  public static void revoked(String ca, String reason, int count) {
    counter(
            "yinxin.ca.revocations",
            "Certificates revoked or put on hold",
            "ca",
            ca,
            "reason",
            reason)
        .increment(count);
  }

  public static void revoked(String ca, String reason) {
    revoked(ca, reason, 1);
  }

  /** Per status: the counter for answers signed for the request, then for cached ones. */
  private static final Map<String, Counter[]> OCSP = new ConcurrentHashMap<>();

  public static void ocsp(String status, boolean cached) {
    OCSP
        .computeIfAbsent(
            status,
            st ->
                new Counter[] {
                  counter(
                      "yinxin.ca.ocsp.responses",
                      "OCSP responses sent",
                      "status",
                      st,
                      "source",
                      "signed"),
                  counter(
                      "yinxin.ca.ocsp.responses",
                      "OCSP responses sent",
                      "status",
                      st,
                      "source",
                      "cached")
                })[cached ? 1 : 0]
        .increment();
  }

  private static final Counter OCSP_LIMITED =
      Counter.builder("yinxin.ca.ocsp.limited")
          .description("OCSP requests answered tryLater, over the fresh-signature limit")
          .register(REGISTRY);

  public static void ocspLimited() {
    OCSP_LIMITED.increment();
  }

  public static void acmeOrder(String event, boolean ok) {
    counter(
            "yinxin.ca.acme.orders",
            "ACME orders created or finalized",
            "event",
            event,
            "result",
            ok ? "ok" : "error")
        .increment();
  }

  private static Counter counter(
      String name, String description, String k1, String v1, String k2, String v2) {
    String id = name + '\u0000' + v1 + '\u0000' + v2;
    Counter c = COUNTERS.get(id);
    if (c == null) {
      c =
          COUNTERS.computeIfAbsent(
              id,
              x ->
                  Counter.builder(name)
                      .description(description)
                      .tag(k1, v1)
                      .tag(k2, v2)
                      .register(REGISTRY));
    }
    return c;
  }
}
