package io.yinxin.audit.spring;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyUse;
import io.yinxin.hsm.KeyUseListener;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Records every key use in the audit log before the caller gets its signature. Two exceptions, both
 * typed: signatures by the configured checkpoint key (a checkpoint is its own evidence, and logging
 * it would make every checkpoint call for another), and uses whose caller signed through {@link
 * io.yinxin.hsm.KeyService#signRecordedByCaller} and records them in its own event (the CA's
 * CERT_ISSUED, which names the key). A purpose string exempts nothing.
 */
public final class KeyUseAuditListener implements KeyUseListener {
  private final Supplier<AuditLog> log;
  private final java.util.function.Predicate<KeyRef> checkpointKey;

  /**
   * @param log where events go (looked up at each use, so the listener can exist before the log)
   * @param checkpointKey the log's own checkpoint key, whose signatures are not recorded
   */
  public KeyUseAuditListener(Supplier<AuditLog> log, Optional<KeyRef> checkpointKey) {
    this(log, ref -> checkpointKey.equals(Optional.of(ref)));
  }

  /**
   * @param log where events go
   * @param activeCheckpointKey whether a key is the log's active checkpoint key (after a rotation
   *     the new one; the retired key's signatures are recorded like any other key's)
   */
  public KeyUseAuditListener(
      Supplier<AuditLog> log, java.util.function.Predicate<KeyRef> activeCheckpointKey) {
    this.log = log;
    this.checkpointKey = activeCheckpointKey;
  }

  @Override
  public void onKeyUse(KeyUse use) {
    if (use.recordedByCaller()) {
      return;
    }
    if (use.operation() == KeyUse.Operation.SIGN && checkpointKey.test(use.ref())) {
      return;
    }
    Map<String, String> attrs = new LinkedHashMap<>();
    attrs.put("operation", use.operation().name());
    attrs.put("purpose", use.purpose());
    use.algorithm().ifPresent(a -> attrs.put("algorithm", a.name()));
    use.spec().ifPresent(s -> attrs.put("keyType", s.name()));
    EventType type =
        use.operation() == KeyUse.Operation.GENERATE ? EventType.KEY_GENERATED : EventType.KEY_USED;
    log.get()
        .append(
            new AuditEvent(
                type, "hsm-adapter", use.ref().toString(), use.time(), attrs, Optional.empty()));
  }
}
