package io.yinxin.sso;

import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A registry that joins Micrometer's global one for a test class, as a node's Prometheus registry
 * does, so the class can read the SSO's counters ({@code @RegisterExtension static final}).
 */
public final class JoinedRegistry implements BeforeAllCallback, AfterAllCallback {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Override
  public void beforeAll(ExtensionContext context) {
    Metrics.addRegistry(registry);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    Metrics.removeRegistry(registry);
  }

  /** A counter's count so far; {@code tags} as name, value, name, value. */
  public double count(String name, String... tags) {
    SsoMetrics.init();
    return registry.get(name).tags(tags).counter().count();
  }
}
