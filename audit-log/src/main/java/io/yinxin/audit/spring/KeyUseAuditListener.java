package io.yinxin.audit.spring;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.audit.store.CheckpointPublisher;
import io.yinxin.hsm.KeyUse;
import io.yinxin.hsm.KeyUseListener;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.springframework.beans.factory.ObjectProvider;

/**
 * Records every key use in the audit log before the caller gets its signature. Two exceptions:
 * checkpoint signatures (the checkpoint is its own evidence, and logging it would make every
 * checkpoint call for another), and uses whose caller records them in its own event ({@link
 * io.yinxin.hsm.KeyUse#RECORDED_BY_CALLER}, e.g. the CA's CERT_ISSUED, which names the key).
 */
final class KeyUseAuditListener implements KeyUseListener {
  private final ObjectProvider<AuditLog> log;

  KeyUseAuditListener(ObjectProvider<AuditLog> log) {
    this.log = log;
  }

  @Override
  public void onKeyUse(KeyUse use) {
    if (use.purpose().equals(CheckpointPublisher.PURPOSE) || use.recordedByCaller()) {
      return;
    }
    Map<String, String> attrs = new LinkedHashMap<>();
    attrs.put("operation", use.operation().name());
    attrs.put("purpose", use.purpose());
    use.algorithm().ifPresent(a -> attrs.put("algorithm", a.name()));
    use.spec().ifPresent(s -> attrs.put("keyType", s.name()));
    EventType type =
        use.operation() == KeyUse.Operation.GENERATE ? EventType.KEY_GENERATED : EventType.KEY_USED;
    log.getObject()
        .append(
            new AuditEvent(
                type, "hsm-adapter", use.ref().toString(), use.time(), attrs, Optional.empty()));
  }
}
