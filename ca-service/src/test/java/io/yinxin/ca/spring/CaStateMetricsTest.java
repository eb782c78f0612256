package io.yinxin.ca.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.yinxin.ca.store.CrlStore.CrlTimes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The CRL gauges follow the newest CRL of each series without ever leaving the registry while the
 * series exists: they used to be removed and added again at every reading, and a scrape between the
 * two missed them.
 */
class CaStateMetricsTest {
  private static final Instant T = Instant.parse("2026-12-07T08:00:00Z");

  @Test
  void aSeriesKeepsItsGaugeAcrossReadingsFollowsTheNewestCrlAndGoesWhenItsCrlsGo() {
    AtomicReference<List<CrlTimes>> crls =
        new AtomicReference<>(
            List.of(
                new CrlTimes("citizen", 0, false, T, T.plus(Duration.ofHours(24))),
                new CrlTimes("citizen", 0, true, T, T.plus(Duration.ofHours(1)))));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    List<String> removed = new ArrayList<>();
    registry.config().onMeterRemoved(m -> removed.add(describe(m)));
    Clock clock = Clock.fixed(T.plus(Duration.ofMinutes(30)), ZoneOffset.UTC);
    try (CaStateMetrics metrics =
        new CaStateMetrics(crls::get, Optional::empty, () -> 0, Duration.ofMinutes(10), clock)) {
      metrics.bindTo(registry);
      Gauge validity = gauge(registry, "yinxin.ca.crl.validity", "full");
      Gauge next = gauge(registry, "yinxin.ca.crl.next.update", "delta");
      Gauge age = gauge(registry, "yinxin.ca.crl.age", "delta");
      assertThat(validity.value()).isEqualTo(86_400);
      assertThat(next.value()).isEqualTo(1_800);
      assertThat(age.value()).isEqualTo(1_800);

      // A new delta CRL, a new full CRL with another validity, and another CA's first CRL.
      Instant later = T.plus(Duration.ofMinutes(20));
      crls.set(
          List.of(
              new CrlTimes("citizen", 0, false, later, later.plus(Duration.ofHours(12))),
              new CrlTimes("citizen", 0, true, later, later.plus(Duration.ofHours(1))),
              new CrlTimes("tls", 0, false, T, T.plus(Duration.ofHours(24)))));
      metrics.refresh();
      assertThat(removed).as("meters removed while their series still exists").isEmpty();
      assertThat(gauge(registry, "yinxin.ca.crl.validity", "full")).isSameAs(validity);
      assertThat(gauge(registry, "yinxin.ca.crl.next.update", "delta")).isSameAs(next);
      assertThat(validity.value()).isEqualTo(43_200);
      assertThat(next.value()).isEqualTo(3_000);
      assertThat(age.value()).isEqualTo(600);
      assertThat(
              registry
                  .find("yinxin.ca.crl.validity")
                  .tags("ca", "tls", "kind", "full")
                  .gauge()
                  .value())
          .isEqualTo(86_400);

      // The citizen CA's delta CRLs are gone: their series go, the others stay.
      crls.set(
          List.of(
              new CrlTimes("citizen", 0, false, later, later.plus(Duration.ofHours(12))),
              new CrlTimes("tls", 0, false, T, T.plus(Duration.ofHours(24)))));
      metrics.refresh();
      assertThat(removed)
          .containsExactlyInAnyOrder(
              "yinxin.ca.crl.age citizen delta",
              "yinxin.ca.crl.next.update citizen delta",
              "yinxin.ca.crl.validity citizen delta");
      assertThat(registry.find("yinxin.ca.crl.validity").tags("kind", "delta").gauges()).isEmpty();
      assertThat(gauge(registry, "yinxin.ca.crl.validity", "full")).isSameAs(validity);
    }
  }

  private static Gauge gauge(SimpleMeterRegistry registry, String name, String kind) {
    Gauge g = registry.find(name).tags("ca", "citizen", "partition", "0", "kind", kind).gauge();
    assertThat(g).as(name + " " + kind).isNotNull();
    return g;
  }

  private static String describe(Meter m) {
    return m.getId().getName() + " " + m.getId().getTag("ca") + " " + m.getId().getTag("kind");
  }
}
