package io.yinxin.hsm.spring;

import io.yinxin.hsm.KeyService;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/** {@code keys}: UP when every configured backend can sign; details per backend, no secrets. */
public class KeysHealthIndicator implements HealthIndicator {
  private final KeyService keys;

  public KeysHealthIndicator(KeyService keys) {
    this.keys = keys;
  }

  @Override
  public Health health() {
    io.yinxin.hsm.Health h = keys.health();
    Health.Builder b = h.up() ? Health.up() : Health.down();
    h.backends().forEach(b::withDetail);
    return b.build();
  }
}
