package io.yinxin.ca.acme;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import java.text.ParseException;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An ACME request body (RFC 8555 §6.2): a flattened JWS JSON object whose protected header names
 * the algorithm, a nonce, the request URL and either the account key ({@code jwk}) or the account
 * URL ({@code kid}). Parsing checks the structure; {@link #verify} checks the signature.
 *
 * @param header the protected header
 * @param payload the payload bytes (empty for POST-as-GET)
 * @param object the JWS as Nimbus holds it
 */
public record AcmeJws(JWSHeader header, byte[] payload, JWSObject object) {
  /** Signature algorithms accepted for account keys. */
  static final Set<JWSAlgorithm> ALGORITHMS =
      Set.of(JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.RS256, JWSAlgorithm.PS256);

  /**
   * Parses a request body.
   *
   * @throws AcmeProblem {@code malformed} or {@code badSignatureAlgorithm}
   */
  public static AcmeJws parse(byte[] body) {
    return parse(body, false);
  }

  /**
   * Parses the inner JWS of a key change (RFC 8555 §7.3.5): signed with the new key, which its
   * header carries as {@code jwk}; it has a {@code url} and no {@code nonce}.
   */
  static AcmeJws parseInner(byte[] body) {
    return parse(body, true);
  }

  private static AcmeJws parse(byte[] body, boolean inner) {
    Map<String, Object> json =
        AcmeJson.object(body)
            .orElseThrow(() -> AcmeProblem.malformed("the request body is not one JSON object"));
    for (String k : json.keySet()) {
      if (!Set.of("protected", "payload", "signature").contains(k)) {
        throw AcmeProblem.malformed("a flattened JWS has only protected, payload and signature");
      }
    }
    if (!(json.get("protected") instanceof String p)
        || !(json.get("payload") instanceof String pl)
        || !(json.get("signature") instanceof String sig)) {
      throw AcmeProblem.malformed("protected, payload and signature must be strings");
    }
    JWSObject jws;
    try {
      jws = new JWSObject(new Base64URL(p), new Payload(new Base64URL(pl)), new Base64URL(sig));
    } catch (ParseException | RuntimeException e) {
      throw AcmeProblem.malformed("the protected header does not parse");
    }
    JWSHeader h = jws.getHeader();
    if (!ALGORITHMS.contains(h.getAlgorithm())) {
      throw new AcmeProblem(
          "badSignatureAlgorithm", 400, "accepted algorithms: ES256, ES384, RS256, PS256");
    }
    if ((h.getJWK() == null) == (h.getKeyID() == null)) {
      throw AcmeProblem.malformed("the protected header needs exactly one of jwk and kid");
    }
    if (inner) {
      if (h.getJWK() == null || h.getCustomParam("nonce") != null) {
        throw AcmeProblem.malformed("the inner JWS has a jwk and no nonce");
      }
      if (!(h.getCustomParam("url") instanceof String)) {
        throw AcmeProblem.malformed("the inner JWS's protected header needs url");
      }
    } else if (!(h.getCustomParam("nonce") instanceof String)
        || !(h.getCustomParam("url") instanceof String)) {
      throw AcmeProblem.malformed("the protected header needs nonce and url");
    }
    if (h.getJWK() != null) {
      requireCanonical(h.getJWK());
    }
    byte[] payload = pl.isEmpty() ? new byte[0] : new Base64URL(pl).decode();
    return new AcmeJws(h, payload, jws);
  }

  public String nonce() {
    return String.valueOf(header.getCustomParam("nonce"));
  }

  public String url() {
    return String.valueOf(header.getCustomParam("url"));
  }

  public Optional<JWK> jwk() {
    return Optional.ofNullable(header.getJWK());
  }

  public Optional<String> kid() {
    return Optional.ofNullable(header.getKeyID());
  }

  /** The payload as a JSON object; empty for POST-as-GET. */
  public Map<String, Object> json() {
    if (payload.length == 0) {
      return Map.of();
    }
    return AcmeJson.object(payload)
        .orElseThrow(() -> AcmeProblem.malformed("the payload is not one JSON object"));
  }

  public boolean isPostAsGet() {
    return payload.length == 0;
  }

  /**
   * Verifies the signature with {@code key} (the header's jwk or the account's stored key).
   *
   * @throws AcmeProblem {@code badPublicKey} or {@code malformed} ("signature does not verify")
   */
  public void verify(JWK key) {
    JWSVerifier v;
    try {
      if (key instanceof ECKey ec) {
        v = new ECDSAVerifier(ec);
      } else if (key instanceof RSAKey rsa) {
        if (rsa.size() < 2048) {
          throw new AcmeProblem("badPublicKey", 400, "RSA account keys need 2048 bits or more");
        }
        v = new RSASSAVerifier(rsa);
      } else {
        throw new AcmeProblem("badPublicKey", 400, "account keys are EC (P-256, P-384) or RSA");
      }
      if (key.isPrivate()) {
        throw new AcmeProblem("badPublicKey", 400, "the jwk must be a public key");
      }
      if (!object.verify(v)) {
        throw AcmeProblem.malformed("the JWS signature does not verify");
      }
    } catch (JOSEException e) {
      throw AcmeProblem.malformed("the JWS signature does not verify with this key and algorithm");
    }
  }

  /**
   * Refuses a JWK whose members are not written the one way RFC 7518 §6 allows: EC coordinates at
   * the curve's full length, RSA modulus and exponent without leading zero octets, each in unpadded
   * base64url with no stray bits. RFC 7638 thumbprints hash the members as written, so another
   * spelling of the same key has another thumbprint: the same key could hold a second account, and
   * the check that a key change does not take a key another account holds would not see it.
   */
  static void requireCanonical(JWK key) {
    boolean canonical;
    if (key instanceof ECKey ec) {
      var spec = ec.getCurve().toECParameterSpec();
      if (spec == null) {
        throw new AcmeProblem("badPublicKey", 400, "account keys are EC (P-256, P-384) or RSA");
      }
      int size = (spec.getCurve().getField().getFieldSize() + 7) / 8;
      canonical = fixedLength(ec.getX(), size) && fixedLength(ec.getY(), size);
    } else if (key instanceof RSAKey rsa) {
      canonical = minimal(rsa.getModulus()) && minimal(rsa.getPublicExponent());
    } else {
      throw new AcmeProblem("badPublicKey", 400, "account keys are EC (P-256, P-384) or RSA");
    }
    if (!canonical) {
      throw new AcmeProblem(
          "badPublicKey", 400, "the jwk is not in its one canonical form (RFC 7518 §6)");
    }
  }

  private static boolean fixedLength(Base64URL b, int length) {
    byte[] raw = b.decode();
    return raw.length == length && Base64URL.encode(raw).toString().equals(b.toString());
  }

  private static boolean minimal(Base64URL b) {
    byte[] raw = b.decode();
    return raw.length > 0 && raw[0] != 0 && Base64URL.encode(raw).toString().equals(b.toString());
  }

  /** RFC 7638 SHA-256 thumbprint of a key, base64url. */
  public static String thumbprint(JWK key) {
    try {
      return key.computeThumbprint().toString();
    } catch (JOSEException e) {
      throw new AcmeProblem("badPublicKey", 400, "cannot compute the key thumbprint");
    }
  }
}
