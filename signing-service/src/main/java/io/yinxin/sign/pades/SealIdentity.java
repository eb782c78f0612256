package io.yinxin.sign.pades;

import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.SignatureAlgorithm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * Who seals: a key in the key backend, its certificate chain (signer first) and its appearance.
 *
 * <p>What every seal needs from the certificates — their encoded size (the CMS reservation), the
 * signer's validity, its ESS signing-certificate-v2 attribute — is computed once here: Bouncy
 * Castle re-encodes a certificate on every {@code getEncoded()} and parses its dates on every
 * {@code isValidOn()}, which together cost a seal about a twentieth of its CPU.
 */
public final class SealIdentity {
  private final String id;
  private final KeyRef key;
  private final SignatureAlgorithm algorithm;
  private final List<X509CertificateHolder> chain;
  private final String name;
  private final String subLine;
  private final Optional<byte[]> image;
  private final int chainBytes;
  private final Instant notBefore;
  private final Instant notAfter;
  private final Attribute signingCertificateV2;

  /**
   * @param name the organisation's name as drawn on the seal and written as the signature's /Name
   * @param subLine the line under the star (e.g. 合同专用章), or empty
   * @param image an uploaded PNG used instead of the drawn seal
   */
  public SealIdentity(
      String id,
      KeyRef key,
      SignatureAlgorithm algorithm,
      List<X509CertificateHolder> chain,
      String name,
      String subLine,
      Optional<byte[]> image) {
    this.chain = List.copyOf(chain);
    if (this.chain.isEmpty()) {
      throw new IllegalArgumentException("a seal needs its certificate");
    }
    this.id = id;
    this.key = key;
    this.algorithm = algorithm;
    this.name = name;
    this.subLine = subLine;
    this.image = image;
    int bytes = 0;
    try {
      for (X509CertificateHolder c : this.chain) {
        bytes += c.getEncoded().length;
      }
      this.signingCertificateV2 = CadesSignature.signingCertificateV2(algorithm, this.chain.get(0));
    } catch (IOException e) {
      throw new UncheckedIOException("unusable seal certificate", e);
    }
    this.chainBytes = bytes;
    this.notBefore = this.chain.get(0).getNotBefore().toInstant();
    this.notAfter = this.chain.get(0).getNotAfter().toInstant();
  }

  public String id() {
    return id;
  }

  public KeyRef key() {
    return key;
  }

  public SignatureAlgorithm algorithm() {
    return algorithm;
  }

  /** The seal certificate first, then its issuers. */
  public List<X509CertificateHolder> chain() {
    return chain;
  }

  public String name() {
    return name;
  }

  public String subLine() {
    return subLine;
  }

  public Optional<byte[]> image() {
    return image;
  }

  public X509CertificateHolder certificate() {
    return chain.get(0);
  }

  /** Whether the seal certificate is valid at {@code t} (its notBefore and notAfter included). */
  public boolean validAt(Instant t) {
    return !t.isBefore(notBefore) && !t.isAfter(notAfter);
  }

  /** The DER size of the whole chain. */
  int chainBytes() {
    return chainBytes;
  }

  /** The signer's ESS signing-certificate-v2 attribute for {@link #algorithm()}'s digest. */
  Attribute signingCertificateV2() {
    return signingCertificateV2;
  }
}
