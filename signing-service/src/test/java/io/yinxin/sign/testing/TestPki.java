package io.yinxin.sign.testing;

import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.bridge.KeyServiceContentSigner;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away PKI for tests, generated when the test runs: a root with a JCA key (the test is its
 * own CA) that certifies keys held in a {@link KeyService}. Written with plain Bouncy Castle, not
 * with Yinxin's CA, so the signing service is judged against certificates it did not make.
 */
public final class TestPki {
  public final KeyPair rootKey;
  public final X509CertificateHolder root;
  private long serial = 1;

  public TestPki(String rootName) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    rootKey = g.generateKeyPair();
    X500Name name = new X500Name(rootName);
    Instant now = Instant.now();
    X509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            name,
            BigInteger.valueOf(serial++),
            Date.from(now.minus(Duration.ofDays(1))),
            Date.from(now.plus(Duration.ofDays(3650))),
            name,
            rootKey.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    root = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate()));
  }

  /** A TSA certificate (EKU timeStamping, critical, as RFC 3161 §2.3 requires) for a held key. */
  public X509CertificateHolder tsa(KeyService keys, KeyInfo key, String subject) throws Exception {
    X509v3CertificateBuilder b = leaf(key, subject);
    b.addExtension(
        Extension.extendedKeyUsage, true, new ExtendedKeyUsage(KeyPurposeId.id_kp_timeStamping));
    return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate()));
  }

  /** A seal certificate (digitalSignature, nonRepudiation) for a held key. */
  public X509CertificateHolder seal(KeyInfo key, String subject) throws Exception {
    Instant now = Instant.now();
    return seal(key, subject, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(365)));
  }

  /** A seal certificate valid from {@code notBefore} to {@code notAfter}. */
  public X509CertificateHolder seal(
      KeyInfo key, String subject, Instant notBefore, Instant notAfter) throws Exception {
    return leaf(key, subject, notBefore, notAfter)
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate()));
  }

  /** A CRL of the root listing {@code revoked} (serials) as revoked at {@code when}. */
  public org.bouncycastle.cert.X509CRLHolder crl(Instant when, BigInteger... revoked)
      throws Exception {
    Instant now = Instant.now();
    org.bouncycastle.cert.X509v2CRLBuilder b =
        new org.bouncycastle.cert.X509v2CRLBuilder(
            root.getSubject(), Date.from(now.minusSeconds(60)));
    b.setNextUpdate(Date.from(now.plus(Duration.ofDays(1))));
    for (BigInteger s : revoked) {
      b.addCRLEntry(s, Date.from(when), org.bouncycastle.asn1.x509.CRLReason.keyCompromise);
    }
    return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate()));
  }

  private X509v3CertificateBuilder leaf(KeyInfo key, String subject) {
    Instant now = Instant.now();
    return leaf(key, subject, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(365)));
  }

  private X509v3CertificateBuilder leaf(
      KeyInfo key, String subject, Instant notBefore, Instant notAfter) {
    X509v3CertificateBuilder b =
        new X509v3CertificateBuilder(
            root.getSubject(),
            BigInteger.valueOf(serial++),
            Date.from(notBefore),
            Date.from(notAfter),
            new X500Name(subject),
            SubjectPublicKeyInfo.getInstance(key.publicKey().getEncoded()));
    try {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.nonRepudiation));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    return b;
  }

  /** A self-signed SM2 root for the SM2 tests, signed in the key backend. */
  public static X509CertificateHolder selfSigned(KeyService keys, KeyInfo key, String name)
      throws Exception {
    Instant now = Instant.now();
    X500Name n = new X500Name(name);
    X509v3CertificateBuilder b =
        new X509v3CertificateBuilder(
            n,
            BigInteger.ONE,
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(365))),
            n,
            SubjectPublicKeyInfo.getInstance(key.publicKey().getEncoded()));
    b.addExtension(
        Extension.extendedKeyUsage, true, new ExtendedKeyUsage(KeyPurposeId.id_kp_timeStamping));
    return b.build(
        new KeyServiceContentSigner(
            keys, key.ref(), key.spec().defaultAlgorithm(), "test self-signed certificate"));
  }

  public static Path writePem(Path file, X509CertificateHolder... certs) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (X509CertificateHolder c : certs) {
      sb.append(io.yinxin.hsm.testing.OpenSsl.pem("CERTIFICATE", c.getEncoded()));
    }
    return Files.writeString(file, sb.toString());
  }
}
