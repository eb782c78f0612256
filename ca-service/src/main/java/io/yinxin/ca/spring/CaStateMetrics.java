package io.yinxin.ca.spring;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.yinxin.ca.ocsp.OcspResponder;
import io.yinxin.ca.store.CrlStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA's state as gauges, for the alerts that must wake someone before relying parties fail:
 *
 * <ul>
 *   <li>{@code yinxin_ca_crl_age_seconds{ca,partition,kind}}: since the newest CRL's thisUpdate
 *       (kind full or delta)
 *   <li>{@code yinxin_ca_crl_next_update_seconds{ca,partition,kind}}: until its nextUpdate,
 *       negative once it has passed
 *   <li>{@code yinxin_ca_crl_validity_seconds{ca,partition,kind}}: nextUpdate − thisUpdate, so a
 *       rule can say "within 25 % of its validity"
 *   <li>{@code yinxin_ca_ocsp_cached_answers}, {@code yinxin_ca_ocsp_cached_min_remaining_seconds}
 *       (until the soonest nextUpdate of an answer signed ahead) and {@code
 *       yinxin_ca_ocsp_refresh_before_seconds} (when cached answers are due to be re-signed)
 * </ul>
 *
 * The CRL list is read from the database every 10 s (every node reports every CA, whichever node
 * published); ages are computed when Prometheus scrapes. A CRL series stays registered from the
 * first reading that has it to the first that does not, its value following the newest CRL: the
 * series were re-registered at every reading (removed, then added), and a scrape that fell between
 * the two missed them (an alert rule's series was absent from one scrape in {@code AlertingTest}).
 */
public class CaStateMetrics implements MeterBinder, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CaStateMetrics.class);

  private final java.util.function.Supplier<List<CrlStore.CrlTimes>> crls;
  private final java.util.function.Supplier<Optional<Instant>> ocspEarliest;
  private final java.util.function.IntSupplier ocspCached;

  /** The newest CRL's times per series, read by the gauges when scraped. */
  private final java.util.Map<Tags, java.util.concurrent.atomic.AtomicReference<CrlStore.CrlTimes>>
      newest = new java.util.concurrent.ConcurrentHashMap<>();

  private final Duration refreshBefore;
  private final Clock clock;
  private final ScheduledExecutorService scheduler = io.yinxin.hsm.Schedulers.daemon("ca-metrics");
  private volatile Optional<Instant> earliestOcsp = Optional.empty();
  private MultiGauge age;
  private MultiGauge nextUpdate;
  private MultiGauge validity;

  public CaStateMetrics(CrlStore crls, OcspResponder ocsp, Duration refreshBefore) {
    this(
        crls::newestTimes,
        ocsp::earliestNextUpdate,
        ocsp::cached,
        refreshBefore,
        Clock.systemUTC());
  }

  /** From the sources themselves (tests). */
  CaStateMetrics(
      java.util.function.Supplier<List<CrlStore.CrlTimes>> crls,
      java.util.function.Supplier<Optional<Instant>> ocspEarliest,
      java.util.function.IntSupplier ocspCached,
      Duration refreshBefore,
      Clock clock) {
    this.crls = crls;
    this.ocspEarliest = ocspEarliest;
    this.ocspCached = ocspCached;
    this.refreshBefore = refreshBefore;
    this.clock = clock;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    io.yinxin.ca.CaMetrics.init();
    age =
        MultiGauge.builder("yinxin.ca.crl.age")
            .description("Seconds since the newest CRL's thisUpdate")
            .baseUnit("seconds")
            .register(registry);
    nextUpdate =
        MultiGauge.builder("yinxin.ca.crl.next.update")
            .description("Seconds until the newest CRL's nextUpdate (negative: past it)")
            .baseUnit("seconds")
            .register(registry);
    validity =
        MultiGauge.builder("yinxin.ca.crl.validity")
            .description("nextUpdate - thisUpdate of the newest CRL")
            .baseUnit("seconds")
            .register(registry);
    Gauge.builder(
            "yinxin.ca.ocsp.cached.answers", ocspCached, java.util.function.IntSupplier::getAsInt)
        .description("OCSP answers signed ahead and cached")
        .register(registry);
    Gauge.builder("yinxin.ca.ocsp.cached.min.remaining", this, m -> m.ocspRemaining())
        .description("Seconds until the soonest nextUpdate of a cached OCSP answer")
        .baseUnit("seconds")
        .register(registry);
    Gauge.builder("yinxin.ca.ocsp.refresh.before", this, m -> m.refreshBefore.toSeconds())
        .description("Cached OCSP answers are re-signed this many seconds before nextUpdate")
        .baseUnit("seconds")
        .register(registry);
    refresh();
    scheduler.scheduleWithFixedDelay(this::refresh, 10, 10, TimeUnit.SECONDS);
  }

  private double ocspRemaining() {
    return earliestOcsp
        .map(t -> Duration.between(clock.instant(), t).toMillis() / 1000.0)
        .orElse(Double.NaN);
  }

  /** Reads the CRL list and the OCSP cache once (every 10 s on the scheduler). */
  void refresh() {
    try {
      List<MultiGauge.Row<?>> ages = new ArrayList<>();
      List<MultiGauge.Row<?>> nexts = new ArrayList<>();
      List<MultiGauge.Row<?>> validities = new ArrayList<>();
      java.util.Set<Tags> seen = new java.util.HashSet<>();
      for (CrlStore.CrlTimes t : crls.get()) {
        Tags tags =
            Tags.of(
                "ca",
                t.issuer(),
                "partition",
                Integer.toString(t.partition()),
                "kind",
                t.delta() ? "delta" : "full");
        seen.add(tags);
        java.util.concurrent.atomic.AtomicReference<CrlStore.CrlTimes> now =
            newest.computeIfAbsent(tags, k -> new java.util.concurrent.atomic.AtomicReference<>());
        now.set(t);
        // The same holder for a series at every reading: registering without overwriting keeps
        // the gauge a series already has, and the gauge reads the holder.
        ages.add(
            MultiGauge.Row.of(
                tags,
                now,
                x -> Duration.between(x.get().thisUpdate(), clock.instant()).toMillis() / 1e3));
        nexts.add(
            MultiGauge.Row.of(
                tags,
                now,
                x -> Duration.between(clock.instant(), x.get().nextUpdate()).toMillis() / 1e3));
        validities.add(
            MultiGauge.Row.of(
                tags,
                now,
                x -> Duration.between(x.get().thisUpdate(), x.get().nextUpdate()).toSeconds()));
      }
      age.register(ages, false);
      nextUpdate.register(nexts, false);
      validity.register(validities, false);
      newest.keySet().retainAll(seen);
      earliestOcsp = ocspEarliest.get();
    } catch (RuntimeException e) {
      log.warn("event=ca_metrics_unreadable reason={}", e.getClass().getSimpleName());
    }
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
