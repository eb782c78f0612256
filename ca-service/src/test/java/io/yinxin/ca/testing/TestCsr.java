package io.yinxin.ca.testing;

import io.yinxin.hsm.BouncyCastle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Key pairs and PKCS#10 requests as a requester's own software would make them. */
public final class TestCsr {
  private TestCsr() {}

  public static KeyPair ec(String curve) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BouncyCastle.PROVIDER);
      g.initialize(new ECGenParameterSpec(curve));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static KeyPair rsa(int bits) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", BouncyCastle.PROVIDER);
      g.initialize(bits);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static KeyPair ed25519() {
    try {
      return KeyPairGenerator.getInstance("Ed25519", BouncyCastle.PROVIDER).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A DER request signed by {@code kp} with {@code alg} (e.g. SHA256withECDSA, SM3withSM2). */
  public static byte[] der(KeyPair kp, String alg) {
    try {
      PKCS10CertificationRequest r =
          new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=ignored"), kp.getPublic())
              .build(
                  new JcaContentSignerBuilder(alg)
                      .setProvider(BouncyCastle.PROVIDER)
                      .build(kp.getPrivate()));
      return r.getEncoded();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * As {@link #der(KeyPair, String)}, but the request carries the key in another valid encoding of
   * the same key: an EC point compressed ({@code 02}/{@code 03}), an RSA key without the NULL
   * algorithm parameters.
   */
  public static byte[] derOtherKeyEncoding(KeyPair kp, String alg, String... dnsNames) {
    try {
      org.bouncycastle.asn1.x509.SubjectPublicKeyInfo spki =
          org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded());
      org.bouncycastle.asn1.x509.SubjectPublicKeyInfo other;
      if (kp.getPublic() instanceof org.bouncycastle.jce.interfaces.ECPublicKey ec) {
        other =
            new org.bouncycastle.asn1.x509.SubjectPublicKeyInfo(
                spki.getAlgorithm(), ec.getQ().getEncoded(true));
      } else {
        other =
            new org.bouncycastle.asn1.x509.SubjectPublicKeyInfo(
                new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
                    spki.getAlgorithm().getAlgorithm()),
                spki.parsePublicKey());
      }
      var builder =
          new org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder(
              new X500Name("CN=" + (dnsNames.length > 0 ? dnsNames[0] : "ignored")), other);
      if (dnsNames.length > 0) {
        org.bouncycastle.asn1.x509.GeneralName[] names =
            new org.bouncycastle.asn1.x509.GeneralName[dnsNames.length];
        for (int i = 0; i < names.length; i++) {
          names[i] =
              new org.bouncycastle.asn1.x509.GeneralName(
                  org.bouncycastle.asn1.x509.GeneralName.dNSName, dnsNames[i]);
        }
        builder.addAttribute(
            org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_extensionRequest,
            new org.bouncycastle.asn1.x509.Extensions(
                new org.bouncycastle.asn1.x509.Extension(
                    org.bouncycastle.asn1.x509.Extension.subjectAlternativeName,
                    false,
                    new org.bouncycastle.asn1.x509.GeneralNames(names).getEncoded())));
      }
      return builder
          .build(
              new JcaContentSignerBuilder(alg)
                  .setProvider(BouncyCastle.PROVIDER)
                  .build(kp.getPrivate()))
          .getEncoded();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String pem(byte[] der) {
    return "-----BEGIN CERTIFICATE REQUEST-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END CERTIFICATE REQUEST-----\n";
  }

  /** A P-256 request in PEM. */
  public static String p256() {
    return pem(der(ec("secp256r1"), "SHA256withECDSA"));
  }
}
