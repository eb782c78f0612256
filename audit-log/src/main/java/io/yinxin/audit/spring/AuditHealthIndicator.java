package io.yinxin.audit.spring;

import io.yinxin.audit.store.CheckpointPublisher;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code auditLog}: DOWN once the checkpoint publisher has refused to sign a tree inconsistent with
 * the last signed checkpoint (a rewritten history); it stays DOWN until an operator has looked and
 * restarted the node. UP otherwise.
 */
public class AuditHealthIndicator implements HealthIndicator {
  private final CheckpointPublisher publisher;

  public AuditHealthIndicator(CheckpointPublisher publisher) {
    this.publisher = publisher;
  }

  @Override
  public Health health() {
    return publisher
        .halted()
        .map(why -> Health.down().withDetail("publication", "stopped: " + why).build())
        .orElseGet(() -> Health.up().build());
  }
}
