package io.yinxin.ca.profile;

import io.yinxin.hsm.KeySpec;
import java.util.Optional;

/**
 * One certificate authority of the hierarchy.
 *
 * @param name short name used in URLs ({@code citizen})
 * @param parent the issuing CA, or empty for a root
 * @param subject distinguished name, RFC 4514 text
 * @param key key type, created in the key backend
 * @param validityDays lifetime of the CA certificate
 * @param pathLength basicConstraints pathLenConstraint
 */
public record CaConfig(
    String name,
    Optional<String> parent,
    String subject,
    KeySpec key,
    int validityDays,
    int pathLength) {

  public boolean isRoot() {
    return parent.isEmpty();
  }
}
