package io.yinxin.hsm.spring;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.yinxin.hsm.Health;
import io.yinxin.hsm.KeyService;

/**
 * {@code yinxin_keys_backend_up{backend}}: 1 while a configured key backend can sign, 0 while it
 * cannot (a PKCS#11 token removed, Vault sealed or unreachable). One health check serves all
 * backends' gauges for a second, so a scrape asks each backend once.
 */
public class KeysMetrics implements MeterBinder {
  private static final long FRESH_NANOS = 1_000_000_000L;
  private final KeyService keys;
  private Health last;
  private long lastAt;

  public KeysMetrics(KeyService keys) {
    this.keys = keys;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    for (String backend : keys.health().backends().keySet()) {
      Gauge.builder("yinxin.keys.backend.up", this, m -> m.up(backend))
          .description("1 while the key backend can sign, 0 while it cannot")
          .tag("backend", backend)
          .register(registry);
    }
  }

  private synchronized double up(String backend) {
    long now = System.nanoTime();
    if (last == null || now - lastAt > FRESH_NANOS) {
      last = keys.health();
      lastAt = now;
    }
    String status = last.backends().get(backend);
    return status != null && status.startsWith("UP") ? 1 : 0;
  }
}
