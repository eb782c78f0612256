package io.yinxin.sso.certificate;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Whether a certificate chain presented over mutual TLS may authenticate someone: validated with
 * the JDK's PKIX validator against configured CA certificates (signatures, validity at this moment,
 * CA constraints), the leaf made for client authentication (digitalSignature; {@code clientAuth}
 * when it names extended key usages), and its status good at its issuer's OCSP responder ({@link
 * OcspStatus}, failing closed). Citizens signing in ({@link CitizenCertificates}) and clients
 * authenticating with {@code tls_client_auth} (RFC 8705 §2.1) are both judged by it.
 */
public final class CertificateChain {
  private final Set<TrustAnchor> anchors;
  private final List<X509Certificate> caCertificates;
  private final OcspStatus ocsp;
  private final Clock clock;

  public CertificateChain(List<X509Certificate> caCertificates, OcspStatus ocsp, Clock clock) {
    if (caCertificates.isEmpty()) {
      throw new IllegalArgumentException("no CA certificate");
    }
    this.caCertificates = List.copyOf(caCertificates);
    this.anchors =
        caCertificates.stream().map(c -> new TrustAnchor(c, null)).collect(Collectors.toSet());
    this.ocsp = ocsp;
    this.clock = clock;
  }

  /**
   * Why the chain is refused, or empty when its leaf may authenticate: {@code no_certificate},
   * {@code untrusted}, {@code expired}, {@code not_for_login}, {@code revoked}, {@code
   * status_unknown}, {@code status_unavailable}.
   */
  public Optional<String> refusal(X509Certificate[] presented) {
    if (presented == null || presented.length == 0) {
      return Optional.of("no_certificate");
    }
    X509Certificate leaf = presented[0];
    // The presented chain without any anchor, as PKIX wants it.
    List<X509Certificate> path =
        Arrays.stream(presented).filter(c -> !caCertificates.contains(c)).toList();
    if (path.isEmpty() || !path.get(0).equals(leaf)) {
      return Optional.of("untrusted");
    }
    try {
      PKIXParameters params = new PKIXParameters(anchors);
      params.setRevocationEnabled(false); // OCSP below, by the certificate's own responder
      params.setDate(java.util.Date.from(clock.instant()));
      CertPathValidator.getInstance("PKIX")
          .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
    } catch (CertPathValidatorException e) {
      Throwable cause = e.getCause();
      boolean expired =
          e.getReason() == CertPathValidatorException.BasicReason.EXPIRED
              || e.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID
              || cause instanceof CertificateExpiredException
              || cause instanceof CertificateNotYetValidException;
      return Optional.of(expired ? "expired" : "untrusted");
    } catch (GeneralSecurityException e) {
      return Optional.of("untrusted");
    }
    boolean[] ku = leaf.getKeyUsage();
    try {
      List<String> eku = leaf.getExtendedKeyUsage();
      if ((ku != null && !ku[0]) || (eku != null && !eku.contains("1.3.6.1.5.5.7.3.2"))) {
        return Optional.of("not_for_login");
      }
    } catch (java.security.cert.CertificateParsingException e) {
      return Optional.of("not_for_login");
    }
    X509Certificate issuer = path.size() > 1 ? path.get(1) : anchorOf(leaf).orElse(null);
    if (issuer == null) {
      return Optional.of("untrusted");
    }
    return switch (ocsp.of(leaf, issuer)) {
      case GOOD -> Optional.empty();
      case REVOKED -> Optional.of("revoked");
      case UNKNOWN -> Optional.of("status_unknown");
      default -> Optional.of("status_unavailable");
    };
  }

  private Optional<X509Certificate> anchorOf(X509Certificate leaf) {
    return caCertificates.stream()
        .filter(c -> c.getSubjectX500Principal().equals(leaf.getIssuerX500Principal()))
        .findFirst();
  }
}
