package io.yinxin.hsm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.operator.ContentSigner;

/**
 * Key stores (PKCS#12, and SunPKCS11's view of a token) only expose a private key that has a
 * certificate beside it. This builds that certificate: self-signed by the key itself, with a
 * subject that says it is a placeholder, never a trust anchor. The CA module issues the real
 * certificates.
 */
public final class PlaceholderCertificate {
  private PlaceholderCertificate() {}

  /** The subject every placeholder carries: {@code CN=<label>, OU=yinxin key placeholder}. */
  public static X500Name subject(String label) {
    return new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.OU, "yinxin key placeholder")
        .addRDN(BCStyle.CN, label)
        .build();
  }

  /** Builds the placeholder for {@code publicKey}, signed by {@code signer} (the same key). */
  public static X509Certificate create(PublicKey publicKey, String label, ContentSigner signer) {
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    X500Name name = subject(label);
    X509v3CertificateBuilder builder =
        new X509v3CertificateBuilder(
            name,
            BigInteger.ONE,
            Date.from(now),
            Date.from(now.plus(36500, ChronoUnit.DAYS)),
            name,
            SubjectPublicKeyInfo.getInstance(publicKey.getEncoded()));
    try {
      return new JcaX509CertificateConverter()
          .setProvider(BouncyCastle.PROVIDER)
          .getCertificate(builder.build(signer));
    } catch (CertificateException e) {
      throw new UncheckedIOException(new IOException("placeholder certificate", e));
    }
  }
}
