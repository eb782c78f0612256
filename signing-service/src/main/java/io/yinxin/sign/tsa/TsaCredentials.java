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
}
