package io.yinxin.sso.certificate;

import io.yinxin.sso.realname.IdNumber;
import io.yinxin.sso.realname.RealNames;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * Who a citizen certificate presented over mutual TLS signs in as: the chain is validated with the
 * JDK's PKIX validator against the configured citizen CA certificates (signatures, validity at this
 * moment, CA constraints), the certificate must be for client authentication (digitalSignature;
 * {@code clientAuth} when it names extended key usages), its status must be good at its issuer's
 * OCSP responder ({@link OcspStatus}, failing closed), and the ID number in its subject's {@code
 * serialNumber} (GB 11643) must belong to an account — found by its blind index, never by a
 * plaintext column.
 */
public final class CitizenCertificates {
  /** What checking a presented chain found. */
  public sealed interface Outcome {}

  /** The certificate signs in as {@code username}. */
  public record SignedIn(String username, X509Certificate certificate, String idNumberMasked)
      implements Outcome {}

  /**
   * Refused, with a reason code: {@code no_certificate}, {@code untrusted}, {@code expired}, {@code
   * not_for_login}, {@code revoked}, {@code status_unknown}, {@code status_unavailable}, {@code
   * no_id_number}, {@code no_account}.
   */
  public record Refused(String reason) implements Outcome {}

  private final Set<TrustAnchor> anchors;
  private final List<X509Certificate> caCertificates;
  private final OcspStatus ocsp;
  private final RealNames realNames;
  private final Clock clock;

  public CitizenCertificates(
      List<X509Certificate> caCertificates, OcspStatus ocsp, RealNames realNames, Clock clock) {
    if (caCertificates.isEmpty()) {
      throw new IllegalArgumentException("no citizen CA certificate");
    }
    this.caCertificates = List.copyOf(caCertificates);
    this.anchors =
        caCertificates.stream().map(c -> new TrustAnchor(c, null)).collect(Collectors.toSet());
    this.ocsp = ocsp;
    this.realNames = realNames;
    this.clock = clock;
  }

  /** The certificates in a PEM file. */
  public static List<X509Certificate> readPem(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> out = new ArrayList<>();
      for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new IllegalStateException(file + " holds no certificate");
      }
      return out;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot read citizen CA certificates from " + file, e);
    }
  }

  public Outcome check(X509Certificate[] presented) {
    if (presented == null || presented.length == 0) {
      return new Refused("no_certificate");
    }
    X509Certificate leaf = presented[0];
    // The presented chain without any anchor, as PKIX wants it.
    List<X509Certificate> path =
        Arrays.stream(presented).filter(c -> !caCertificates.contains(c)).toList();
    if (path.isEmpty() || !path.get(0).equals(leaf)) {
      return new Refused("untrusted");
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
      return new Refused(expired ? "expired" : "untrusted");
    } catch (GeneralSecurityException e) {
      return new Refused("untrusted");
    }
    boolean[] ku = leaf.getKeyUsage();
    try {
      List<String> eku = leaf.getExtendedKeyUsage();
      if ((ku != null && !ku[0]) || (eku != null && !eku.contains("1.3.6.1.5.5.7.3.2"))) {
        return new Refused("not_for_login");
      }
    } catch (java.security.cert.CertificateParsingException e) {
      return new Refused("not_for_login");
    }
    X509Certificate issuer = path.size() > 1 ? path.get(1) : anchorOf(leaf).orElse(null);
    if (issuer == null) {
      return new Refused("untrusted");
    }
    switch (ocsp.of(leaf, issuer)) {
      case GOOD -> {}
      case REVOKED -> {
        return new Refused("revoked");
      }
      case UNKNOWN -> {
        return new Refused("status_unknown");
      }
      default -> {
        return new Refused("status_unavailable");
      }
    }
    Optional<IdNumber> id = idNumber(leaf);
    if (id.isEmpty()) {
      return new Refused("no_id_number");
    }
    return realNames
        .byIdNumber(id.get())
        .<Outcome>map(u -> new SignedIn(u, leaf, id.get().masked()))
        .orElseGet(() -> new Refused("no_account"));
  }

  private Optional<X509Certificate> anchorOf(X509Certificate leaf) {
    return caCertificates.stream()
        .filter(c -> c.getSubjectX500Principal().equals(leaf.getIssuerX500Principal()))
        .findFirst();
  }

  private Optional<IdNumber> idNumber(X509Certificate leaf) {
    X500Name subject = X500Name.getInstance(leaf.getSubjectX500Principal().getEncoded());
    RDN[] rdns = subject.getRDNs(BCStyle.SERIALNUMBER);
    if (rdns.length != 1) {
      return Optional.empty();
    }
    String value = IETFUtils.valueToString(rdns[0].getFirst().getValue());
    return IdNumber.parse(
        value, LocalDate.now(clock.withZone(ZoneId.of("Asia/Shanghai"))), new String[1]);
  }
}
