package io.yinxin.sso.certificate;

import io.yinxin.sso.realname.IdNumber;
import io.yinxin.sso.realname.RealNames;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * Who a citizen certificate presented over mutual TLS signs in as: the chain must pass {@link
 * CertificateChain} against the configured citizen CA certificates (PKIX, client authentication,
 * OCSP status), and the ID number in its subject's {@code serialNumber} (GB 11643) must belong to
 * an account — found by its blind index, never by a plaintext column.
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

  private final CertificateChain chain;
  private final RealNames realNames;
  private final Clock clock;

  public CitizenCertificates(
      List<X509Certificate> caCertificates, OcspStatus ocsp, RealNames realNames, Clock clock) {
    if (caCertificates.isEmpty()) {
      throw new IllegalArgumentException("no citizen CA certificate");
    }
    this.chain = new CertificateChain(caCertificates, ocsp, clock);
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
      throw new IllegalStateException("cannot read CA certificates from " + file, e);
    }
  }

  public Outcome check(X509Certificate[] presented) {
    Optional<String> refused = chain.refusal(presented);
    if (refused.isPresent()) {
      return new Refused(refused.get());
    }
    X509Certificate leaf = presented[0];
    Optional<IdNumber> id = idNumber(leaf);
    if (id.isEmpty()) {
      return new Refused("no_id_number");
    }
    return realNames
        .byIdNumber(id.get())
        .<Outcome>map(u -> new SignedIn(u, leaf, id.get().masked()))
        .orElseGet(() -> new Refused("no_account"));
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
