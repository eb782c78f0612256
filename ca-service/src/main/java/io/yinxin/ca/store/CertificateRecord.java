package io.yinxin.ca.store;

import java.time.Instant;
import java.util.Optional;

/**
 * A certificate as the CA stores it.
 *
 * @param issuer the issuing CA's name
 * @param serial lower-case hex serial number
 * @param profile the profile it was issued under
 * @param subject the subject DN (RFC 4514 text; may hold personal data: never log it)
 * @param keySha256 SHA-256 of the DER SubjectPublicKeyInfo
 * @param notBefore start of validity
 * @param notAfter end of validity
 * @param partition its CRL partition
 * @param status current status
 * @param revokedAt when it was revoked or put on hold
 * @param reason RFC 5280 CRLReason code when revoked or on hold
 * @param issuedAt when it was issued
 * @param der the certificate
 * @param invalidityDate RFC 5280 invalidityDate of a revocation: when the key is known or suspected
 *     to have been compromised
 */
public record CertificateRecord(
    String issuer,
    String serial,
    String profile,
    String subject,
    byte[] keySha256,
    Instant notBefore,
    Instant notAfter,
    int partition,
    Status status,
    Optional<Instant> revokedAt,
    Optional<Integer> reason,
    Instant issuedAt,
    byte[] der,
    Optional<Instant> invalidityDate) {

  /** A certificate with no invalidity date. */
  public CertificateRecord(
      String issuer,
      String serial,
      String profile,
      String subject,
      byte[] keySha256,
      Instant notBefore,
      Instant notAfter,
      int partition,
      Status status,
      Optional<Instant> revokedAt,
      Optional<Integer> reason,
      Instant issuedAt,
      byte[] der) {
    this(
        issuer,
        serial,
        profile,
        subject,
        keySha256,
        notBefore,
        notAfter,
        partition,
        status,
        revokedAt,
        reason,
        issuedAt,
        der,
        Optional.empty());
  }

  /** A freshly issued, valid certificate. */
  public static CertificateRecord issued(
      String issuer,
      String profile,
      org.bouncycastle.cert.X509CertificateHolder cert,
      byte[] keySha256,
      int partition) {
    try {
      return new CertificateRecord(
          issuer,
          cert.getSerialNumber().toString(16),
          profile,
          cert.getSubject().toString(),
          keySha256,
          cert.getNotBefore().toInstant(),
          cert.getNotAfter().toInstant(),
          partition,
          Status.VALID,
          Optional.empty(),
          Optional.empty(),
          Instant.now(),
          cert.getEncoded());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Certificate status. */
  public enum Status {
    VALID('V'),
    REVOKED('R'),
    ON_HOLD('H');

    private final char code;

    Status(char code) {
      this.code = code;
    }

    public String code() {
      return String.valueOf(code);
    }

    public static Status of(String code) {
      for (Status s : values()) {
        if (s.code().equals(code)) {
          return s;
        }
      }
      throw new IllegalArgumentException("status " + code);
    }
  }
}
