package io.yinxin.sign.tsa;

import java.util.Optional;

/**
 * Where the TSA's current key and certificate come from: a configured key and PEM chain, or (on a
 * node that also runs the CA) the service certificate the CA hierarchy keeps renewed. Asked on
 * every token, so a renewal takes effect without a restart.
 */
@FunctionalInterface
public interface TsaCredentials {
  Optional<TsaCredential> current();

  /**
   * An SM2 credential that stamps SM3 imprints with SM3withSM2 (GB/T 20520, the time-stamps of SM2
   * seals) beside the {@link #current()} one; empty when there is none.
   */
  default Optional<TsaCredential> sm2() {
    return Optional.empty();
  }
}
