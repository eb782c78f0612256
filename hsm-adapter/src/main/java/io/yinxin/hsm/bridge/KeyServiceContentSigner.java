package io.yinxin.hsm.bridge;

import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.SignatureAlgorithm;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;

/**
 * A Bouncy Castle {@link ContentSigner} whose key stays in its backend: for certificates, CRLs,
 * OCSP responses, CMS and timestamps. One instance signs once, as Bouncy Castle's builders expect;
 * create a new one per signature.
 */
public final class KeyServiceContentSigner implements ContentSigner {
  private final KeyService keys;
  private final KeyRef ref;
  private final SignatureAlgorithm alg;
  private final String purpose;
  private final boolean recordedByCaller;
  private final AlgorithmIdentifier algorithmIdentifier;
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

  public KeyServiceContentSigner(
      KeyService keys, KeyRef ref, SignatureAlgorithm alg, String purpose) {
    this(keys, ref, alg, purpose, false);
  }

  private KeyServiceContentSigner(
      KeyService keys, KeyRef ref, SignatureAlgorithm alg, String purpose, boolean byCaller) {
    this.keys = keys;
    this.ref = ref;
    this.alg = alg;
    this.purpose = purpose;
    this.recordedByCaller = byCaller;
    this.algorithmIdentifier = algorithmIdentifier(alg);
  }

  /** A signer whose caller records the key use itself ({@link KeyService#signRecordedByCaller}). */
  public static KeyServiceContentSigner recordedByCaller(
      KeyService keys, KeyRef ref, SignatureAlgorithm alg, String purpose) {
    return new KeyServiceContentSigner(keys, ref, alg, purpose, true);
  }

  /** The X.509 AlgorithmIdentifier of a signature algorithm (RFC 5758, 4055, 8410, GM/T 0006). */
  public static AlgorithmIdentifier algorithmIdentifier(SignatureAlgorithm alg) {
    if (alg == SignatureAlgorithm.SM3_WITH_SM2) {
      return new AlgorithmIdentifier(GMObjectIdentifiers.sm2sign_with_sm3);
    }
    return new DefaultSignatureAlgorithmIdentifierFinder().find(alg.jcaName());
  }

  @Override
  public AlgorithmIdentifier getAlgorithmIdentifier() {
    return algorithmIdentifier;
  }

  @Override
  public OutputStream getOutputStream() {
    return buffer;
  }

  @Override
  public byte[] getSignature() {
    return recordedByCaller
        ? keys.signRecordedByCaller(ref, alg, buffer.toByteArray(), purpose)
        : keys.sign(ref, alg, buffer.toByteArray(), purpose);
  }
}
