package io.yinxin.hsm;

import java.util.Map;

/**
 * Whether backends can sign.
 *
 * @param up true when every backend is up
 * @param backends each backend's status by scheme, e.g. {@code pkcs11 -> "UP token=yinxin"}; never
 *     holds secrets
 */
public record Health(boolean up, Map<String, String> backends) {
  public Health {
    backends = Map.copyOf(backends);
  }
}
