package io.yinxin.sign.csc;

import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSASSAPSSparams;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * The algorithm identifiers of the Cloud Signature Consortium API v2 ({@code signAlgo}, {@code
 * hashAlgorithmOID}, {@code signAlgoParams}) and the {@link SignatureAlgorithm} they name. A plain
 * function over values: what a client asks for is either exactly one algorithm the key backend
 * signs digests with, or refused.
 */
public final class CscAlgorithms {
  static final String SHA256 = NISTObjectIdentifiers.id_sha256.getId();
  static final String SHA384 = NISTObjectIdentifiers.id_sha384.getId();
  static final String ECDSA_SHA256 = X9ObjectIdentifiers.ecdsa_with_SHA256.getId();
  static final String ECDSA_SHA384 = X9ObjectIdentifiers.ecdsa_with_SHA384.getId();
  static final String RSA = PKCSObjectIdentifiers.rsaEncryption.getId();
  static final String RSA_SHA256 = PKCSObjectIdentifiers.sha256WithRSAEncryption.getId();
  static final String RSA_PSS = PKCSObjectIdentifiers.id_RSASSA_PSS.getId();
  static final String SM3 = org.bouncycastle.asn1.gm.GMObjectIdentifiers.sm3.getId();
  static final String SM2_SM3 =
      org.bouncycastle.asn1.gm.GMObjectIdentifiers.sm2sign_with_sm3.getId();

  private CscAlgorithms() {}

  /**
   * The algorithm a signHash request names.
   *
   * @param signAlgo the signature algorithm OID
   * @param hashAlgorithmOid the digest's OID; required where {@code signAlgo} does not imply one
   *     ({@code rsaEncryption}, RSASSA-PSS), otherwise it must agree
   * @param signAlgoParams DER AlgorithmIdentifier parameters: for RSASSA-PSS, SHA-256 with
   *     MGF1-SHA-256 and a 32-byte salt, the only PSS the key backends make
   * @throws SignException {@code INVALID_REQUEST} for anything else
   */
  public static SignatureAlgorithm resolve(
      String signAlgo, Optional<String> hashAlgorithmOid, Optional<byte[]> signAlgoParams) {
    if (signAlgo == null || signAlgo.isEmpty()) {
      throw invalid("Missing (or invalid type) string parameter signAlgo");
    }
    SignatureAlgorithm alg;
    String impliedHash;
    if (signAlgo.equals(ECDSA_SHA256)) {
      alg = SignatureAlgorithm.ECDSA_SHA256;
      impliedHash = SHA256;
    } else if (signAlgo.equals(ECDSA_SHA384)) {
      alg = SignatureAlgorithm.ECDSA_SHA384;
      impliedHash = SHA384;
    } else if (signAlgo.equals(RSA_SHA256)) {
      alg = SignatureAlgorithm.RSA_PKCS1_SHA256;
      impliedHash = SHA256;
    } else if (signAlgo.equals(RSA)) {
      alg = SignatureAlgorithm.RSA_PKCS1_SHA256;
      impliedHash = null;
    } else if (signAlgo.equals(SM2_SM3)) {
      // SM2 over e = SM3(Z ‖ M) (GB/T 32918.2 §6.1), Z from the signer's ID and public key: the
      // client computes e, as it does for any SM2 signature it sends to be signed.
      alg = SignatureAlgorithm.SM3_WITH_SM2;
      impliedHash = SM3;
    } else if (signAlgo.equals(RSA_PSS)) {
      alg = SignatureAlgorithm.RSA_PSS_SHA256;
      impliedHash = null;
      checkPssParameters(signAlgoParams);
    } else {
      throw invalid("Invalid parameter signAlgo");
    }
    if (impliedHash == null) {
      String hash =
          hashAlgorithmOid.orElseThrow(
              () -> invalid("Missing (or invalid type) string parameter hashAlgorithmOID"));
      if (!hash.equals(SHA256)) {
        throw invalid("Invalid parameter hashAlgorithmOID");
      }
    } else if (hashAlgorithmOid.isPresent() && !hashAlgorithmOid.get().equals(impliedHash)) {
      throw invalid("Invalid parameter hashAlgorithmOID");
    }
    if (!signAlgo.equals(RSA_PSS) && signAlgoParams.isPresent()) {
      throw invalid("Invalid parameter signAlgoParams");
    }
    return alg;
  }

  private static void checkPssParameters(Optional<byte[]> der) {
    byte[] bytes =
        der.orElseThrow(() -> invalid("Missing (or invalid type) string parameter signAlgoParams"));
    RSASSAPSSparams params;
    try {
      ASN1Primitive p = ASN1Primitive.fromByteArray(bytes);
      if (!java.util.Arrays.equals(p.getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER), bytes)) {
        throw invalid("Invalid parameter signAlgoParams");
      }
      params = RSASSAPSSparams.getInstance(p);
    } catch (IOException | IllegalArgumentException | ClassCastException e) {
      throw invalid("Invalid parameter signAlgoParams");
    }
    AlgorithmIdentifier hash = params.getHashAlgorithm();
    AlgorithmIdentifier mgf = params.getMaskGenAlgorithm();
    boolean ok =
        hash.getAlgorithm().equals(NISTObjectIdentifiers.id_sha256)
            && mgf.getAlgorithm().equals(PKCSObjectIdentifiers.id_mgf1)
            && AlgorithmIdentifier.getInstance(mgf.getParameters())
                .getAlgorithm()
                .equals(NISTObjectIdentifiers.id_sha256)
            && params.getSaltLength().intValueExact() == 32
            && params.getTrailerField().intValueExact() == 1;
    if (!ok) {
      throw invalid("signAlgoParams: only SHA-256, MGF1-SHA-256 and a 32-byte salt are offered");
    }
  }

  /** The {@code signAlgo} OIDs a credential with {@code algorithm}'s key type offers. */
  public static List<String> offered(SignatureAlgorithm algorithm) {
    List<String> out = new ArrayList<>();
    switch (algorithm) {
      case ECDSA_SHA256:
      case ECDSA_SHA384:
        out.add(ECDSA_SHA256);
        out.add(ECDSA_SHA384);
        break;
      case RSA_PKCS1_SHA256:
      case RSA_PSS_SHA256:
        out.add(RSA_SHA256);
        out.add(RSA);
        out.add(RSA_PSS);
        break;
      case SM3_WITH_SM2:
        out.add(SM2_SM3);
        break;
      default:
        break;
    }
    return out;
  }

  /** The length in bytes of a digest with the hash {@code oid} (SHA-256, SHA-384 or SM3). */
  public static int hashLength(String oid) {
    if (SHA256.equals(oid) || SM3.equals(oid)) {
      return 32;
    }
    if (SHA384.equals(oid)) {
      return 48;
    }
    throw invalid("Invalid parameter hashAlgorithmOID");
  }

  /** The digest length of {@code alg}'s hash in bytes. */
  public static int digestLength(SignatureAlgorithm alg) {
    return "SHA-384".equals(alg.digestAlgorithm().orElse("")) ? 48 : 32;
  }

  private static SignException invalid(String message) {
    return new SignException(Code.INVALID_REQUEST, message);
  }
}
