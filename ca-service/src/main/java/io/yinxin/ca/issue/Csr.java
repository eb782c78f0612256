package io.yinxin.ca.issue;

import io.yinxin.ca.CaException;
import io.yinxin.hsm.BouncyCastle;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * A PKCS#10 request whose proof of possession has been checked: its signature verifies with the
 * public key it carries.
 *
 * @param publicKey the key to certify
 * @param der the request as received
 */
public record Csr(SubjectPublicKeyInfo publicKey, byte[] der) {

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
    KeyPolicy.describe(spki);
    boolean valid;
    try {
      valid =
          req.isSignatureValid(
              new JcaContentVerifierProviderBuilder()
                  .setProvider(BouncyCastle.PROVIDER)
                  .build(spki));
    } catch (Exception e) {
      throw new CaException(
          CaException.Code.BAD_CSR, FIELD, "the request's signature algorithm is not supported");
    }
    if (!valid) {
      throw new CaException(
          CaException.Code.BAD_CSR,
          FIELD,
          "the request's signature does not verify with its public key (no proof of possession)");
    }
    return new Csr(spki, der.clone());
  }
}
