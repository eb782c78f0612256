package io.yinxin.hsm;

/**
 * Observes every successful key use, after it happened and before the caller gets the result. The
 * audit log registers one. A listener that throws fails the operation: a use that cannot be
 * recorded must not be handed out.
 */
@FunctionalInterface
public interface KeyUseListener {
  void onKeyUse(KeyUse use);
}
