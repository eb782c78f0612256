package io.yinxin.ca.profile;

import io.yinxin.hsm.KeySpec;
import java.util.List;
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
 * @param policies certificate policy OIDs the CA certificate carries (CA/B BR 7.1.2.10.5 for TLS
 *     issuing CAs); empty for none
 * @param extendedKeyUsage EKU OIDs the CA certificate carries (BR 7.1.2.10.6); empty for none
 */
public record CaConfig(
    String name,
    Optional<String> parent,
    String subject,
    KeySpec key,
    int validityDays,
    int pathLength,
    List<String> policies,
    List<String> extendedKeyUsage) {

  public CaConfig {
    policies = List.copyOf(policies);
    extendedKeyUsage = List.copyOf(extendedKeyUsage);
  }

  public boolean isRoot() {
    return parent.isEmpty();
  }
}
