package io.yinxin.ca.issue;

import io.yinxin.ca.CaException;
import io.yinxin.ca.profile.KeyType;
import io.yinxin.hsm.BouncyCastle;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.Signer;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA384Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.DSADigestSigner;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.SM2Signer;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * A PKCS#10 request whose proof of possession has been checked: its signature verifies with the
 * public key it carries.
 *
 * @param publicKey the key to certify, in its canonical encoding ({@link KeyPolicy.ParsedKey})
 * @param key what the key policy found out about it
 * @param der the request as received
 */
public record Csr(SubjectPublicKeyInfo publicKey, KeyPolicy.KeyDescription key, byte[] der) {

  /** Largest request accepted, PEM or DER. */
  public static final int MAX_BYTES = 64 * 1024;

  private static final String FIELD = "csr";

  /**
   * Parses a PEM ({@code CERTIFICATE REQUEST} / {@code NEW CERTIFICATE REQUEST}) or bare base64
   * request and checks its signature.
   *
   * @throws CaException {@code TOO_LARGE}, or {@code BAD_CSR} saying what is wrong
   */
  public static Csr parsePem(String text) {
    if (text == null || text.isBlank()) {
      throw new CaException(
          CaException.Code.BAD_CSR, FIELD, "a PEM certificate request is required");
    }
    if (text.length() > MAX_BYTES) {
      throw new CaException(
          CaException.Code.TOO_LARGE, FIELD, "larger than " + MAX_BYTES + " bytes");
    }
    String body = text.strip();
    if (body.startsWith("-----BEGIN")) {
      int start = body.indexOf('\n');
      int end = body.indexOf("-----END");
      String header = start < 0 ? "" : body.substring(0, start).strip();
      if (start < 0
          || end < start
          || !(header.equals("-----BEGIN CERTIFICATE REQUEST-----")
              || header.equals("-----BEGIN NEW CERTIFICATE REQUEST-----"))) {
        throw new CaException(
            CaException.Code.BAD_CSR, FIELD, "expected a PEM block CERTIFICATE REQUEST");
      }
      body = body.substring(start + 1, end);
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(body.getBytes(StandardCharsets.US_ASCII));
    } catch (IllegalArgumentException e) {
      throw new CaException(CaException.Code.BAD_CSR, FIELD, "not valid base64");
    }
    return parseDer(der);
  }

  /** Parses a DER request and checks its signature. */
  public static Csr parseDer(byte[] der) {
    if (der.length > MAX_BYTES) {
      throw new CaException(
          CaException.Code.TOO_LARGE, FIELD, "larger than " + MAX_BYTES + " bytes");
    }
    PKCS10CertificationRequest req;
    try {
      req = new PKCS10CertificationRequest(der);
    } catch (java.io.IOException | RuntimeException e) {
      throw new CaException(CaException.Code.BAD_CSR, FIELD, "not a DER PKCS#10 request");
    }
    SubjectPublicKeyInfo spki = req.getSubjectPublicKeyInfo();
    // Parse the key under the profile rules first, so the verifier never sees an unusable key.
    KeyPolicy.ParsedKey key = KeyPolicy.parse(spki);
    if (!signatureVerifies(req, key)) {
      throw new CaException(
          CaException.Code.BAD_CSR,
          FIELD,
          "the request's signature does not verify with its public key (no proof of possession)");
    }
    return new Csr(key.canonical(), key.description(), der.clone());
  }

  /**
   * EC requests are checked with the point {@link KeyPolicy} already decoded and validated, one
   * verification each: Bouncy Castle's JCA content verifier verifies ECDSA and RSA signatures twice
   * (once more with its raw signature, to reset it), which doubled the cost of the most expensive
   * step of issuance. RSA requests (PKCS#1 v1.5 and PSS) go through the JCA verifier.
   */
  private static boolean signatureVerifies(
      PKCS10CertificationRequest req, KeyPolicy.ParsedKey key) {
    if (!(key.parameters() instanceof ECPublicKeyParameters ec)) {
      if (!RSA_SIGNATURES.contains(req.getSignatureAlgorithm().getAlgorithm())
          || !pssHashIsStrong(req.getSignatureAlgorithm())) {
        // MD5 and SHA-1 (and anything else) are refused: collisions make a request forgeable.
        throw unsupportedAlgorithm();
      }
      try {
        return req.isSignatureValid(
            new JcaContentVerifierProviderBuilder()
                .setProvider(BouncyCastle.PROVIDER)
                .build(req.getSubjectPublicKeyInfo()));
      } catch (Exception e) {
        throw unsupportedAlgorithm();
      }
    }
    AlgorithmIdentifier alg = req.getSignatureAlgorithm();
    if (alg.getParameters() != null) {
      // RFC 5758 §3.2: ECDSA algorithm identifiers carry no parameters (nor does SM3withSM2).
      throw unsupportedAlgorithm();
    }
    Signer verifier;
    if (key.description().type() == KeyType.SM2) {
      if (!alg.getAlgorithm().equals(GMObjectIdentifiers.sm2sign_with_sm3)) {
        throw unsupportedAlgorithm();
      }
      verifier = new SM2Signer(); // SM3, default user ID 1234567812345678, DER signature
    } else if (alg.getAlgorithm().equals(X9ObjectIdentifiers.ecdsa_with_SHA256)) {
      verifier = new DSADigestSigner(new ECDSASigner(), new SHA256Digest());
    } else if (alg.getAlgorithm().equals(X9ObjectIdentifiers.ecdsa_with_SHA384)) {
      verifier = new DSADigestSigner(new ECDSASigner(), new SHA384Digest());
    } else if (alg.getAlgorithm().equals(X9ObjectIdentifiers.ecdsa_with_SHA512)) {
      verifier = new DSADigestSigner(new ECDSASigner(), new SHA512Digest());
    } else {
      throw unsupportedAlgorithm();
    }
    verifier.init(false, ec);
    byte[] signed;
    try {
      signed = req.toASN1Structure().getCertificationRequestInfo().getEncoded(ASN1Encoding.DER);
    } catch (java.io.IOException e) {
      throw new CaException(CaException.Code.BAD_CSR, FIELD, "not a DER PKCS#10 request");
    }
    verifier.update(signed, 0, signed.length);
    // verifySignature refuses a signature that is not strict DER or whose r, s are out of range
    return verifier.verifySignature(req.getSignature());
  }

  /** RSA request signatures accepted: PKCS#1 v1.5 with SHA-2, and PSS (its hash checked below). */
  private static final java.util.Set<org.bouncycastle.asn1.ASN1ObjectIdentifier> RSA_SIGNATURES =
      java.util.Set.of(
          org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.sha256WithRSAEncryption,
          org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.sha384WithRSAEncryption,
          org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.sha512WithRSAEncryption,
          org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.id_RSASSA_PSS);

  private static boolean pssHashIsStrong(AlgorithmIdentifier alg) {
    if (!alg.getAlgorithm()
        .equals(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.id_RSASSA_PSS)) {
      return true;
    }
    try {
      var pss = org.bouncycastle.asn1.pkcs.RSASSAPSSparams.getInstance(alg.getParameters());
      var hash = pss.getHashAlgorithm().getAlgorithm();
      return hash.equals(org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha256)
          || hash.equals(org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha384)
          || hash.equals(org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha512);
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static CaException unsupportedAlgorithm() {
    return new CaException(
        CaException.Code.BAD_CSR, FIELD, "the request's signature algorithm is not supported");
  }
}
