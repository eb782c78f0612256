package io.yinxin.ca.issue;

import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.bridge.KeyServiceContentSigner;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.ContentSigner;

/**
 * A CA that signs: its certificate and the key that stays in the key backend.
 *
 * @param name short name ({@code citizen})
 * @param certificate the CA certificate
 * @param key its key in the backend
 * @param algorithm the signature algorithm for everything it signs
 */
public record Issuer(
    String name, X509CertificateHolder certificate, KeyRef key, SignatureAlgorithm algorithm) {

  public X500Name subject() {
    return certificate.getSubject();
  }

  /** A fresh content signer (Bouncy Castle builders take one per signature). */
  public ContentSigner signer(KeyService keys, String purpose) {
    return new KeyServiceContentSigner(keys, key, algorithm, purpose);
  }

  /**
   * A signer for a caller that records this use of the CA key in its own audit event (the
   * certificate's CERT_ISSUED names the key): see {@code KeyService.signRecordedByCaller}.
   */
  public ContentSigner signerRecordedByCaller(KeyService keys, String purpose) {
    return KeyServiceContentSigner.recordedByCaller(keys, key, algorithm, purpose);
  }

  /** Whether this CA is a root: its certificate is self-issued. */
  public boolean isRoot() {
    return certificate.getSubject().equals(certificate.getIssuer());
  }

  /** The authority key identifier for what this CA issues: its own subject key identifier. */
  public AuthorityKeyIdentifier authorityKeyIdentifier() {
    SubjectKeyIdentifier ski = SubjectKeyIdentifier.fromExtensions(certificate.getExtensions());
    if (ski == null) {
      throw new IllegalStateException("CA " + name + " has no subject key identifier");
    }
    return new AuthorityKeyIdentifier(ski.getKeyIdentifier());
  }

  public byte[] encoded() {
    try {
      return certificate.getEncoded();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether the certificate says this is a CA with a subject key identifier. */
  public boolean hasSubjectKeyIdentifier() {
    return certificate.getExtension(Extension.subjectKeyIdentifier) != null;
  }
}
