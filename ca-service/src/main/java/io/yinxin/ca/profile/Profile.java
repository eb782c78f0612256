package io.yinxin.ca.profile;

import java.util.List;
import java.util.Set;

/**
 * A certificate profile: what a certificate issued under it contains and what a request must look
 * like. Loaded from the hierarchy YAML; see {@link HierarchyConfig}.
 *
 * @param name e.g. {@code citizen-sign}
 * @param issuer the CA that issues it, or {@code *} for a profile every CA uses for itself (the
 *     OCSP signer)
 * @param keyTypes public key types accepted
 * @param rsaMinBits smallest RSA modulus accepted
 * @param validityDays certificate lifetime (capped at the issuer's own notAfter)
 * @param keyUsage key usage bits by RFC 5280 name ({@code digitalSignature}, {@code
 *     nonRepudiation}, ...)
 * @param extendedKeyUsage EKU names ({@code serverAuth}, {@code documentSigning}, ...) or dotted
 *     OIDs
 * @param extendedKeyUsageCritical mark EKU critical (RFC 3161 requires it for a TSA)
 * @param policies certificate policy OIDs
 * @param subject how the subject is built
 * @param san which alternative names are taken
 * @param ocspNoCheck add id-pkix-ocsp-nocheck (delegated OCSP signers)
 * @param refuseRevokedKeys refuse a public key whose earlier certificate was revoked
 * @param channels who may ask for a certificate under this profile: REST clients (operators), ACME
 *     clients, or only the hierarchy itself (TSA, OCSP signers)
 */
public record Profile(
    String name,
    String issuer,
    Set<KeyType> keyTypes,
    int rsaMinBits,
    int validityDays,
    Set<String> keyUsage,
    List<String> extendedKeyUsage,
    boolean extendedKeyUsageCritical,
    List<String> policies,
    SubjectTemplate subject,
    SanRule san,
    boolean ocspNoCheck,
    boolean refuseRevokedKeys,
    Set<Channel> channels) {

  /** How a certificate request arrives. */
  public enum Channel {
    REST,
    ACME,
    HIERARCHY
  }

  public Profile {
    channels = Set.copyOf(channels);
    keyTypes = Set.copyOf(keyTypes);
    keyUsage = Set.copyOf(keyUsage);
    extendedKeyUsage = List.copyOf(extendedKeyUsage);
    policies = List.copyOf(policies);
  }
}
