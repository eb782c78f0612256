package io.yinxin.sign.http;

import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.bridge.KeyServiceContentSigner;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;

/**
 * Keys for new seals, in the key backend (scope {@code seal:admin}): list the keys (public parts
 * only), generate one, and have it sign a PKCS#10 request for its certificate — the steps before
 * {@code POST /sign/v1/seals}. The private key never leaves the backend; each generation and
 * signature is a {@code KEY_GENERATED} / {@code KEY_USED} audit event.
 */
@org.springframework.web.bind.annotation.RestController
public class SealKeyController {
  private final KeyService keys;
  private final Callers callers;

  public SealKeyController(KeyService keys, Callers callers) {
    this.keys = keys;
    this.callers = callers;
  }

  /** Every key of every backend: its URI, type and the SHA-256 of its public key. */
  @GetMapping(value = "/sign/v1/keys", produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> list(
      @RequestHeader(value = "Authorization", required = false) String authorization) {
    callers.authenticate("seal:admin", authorization);
    List<Object> out = new ArrayList<>();
    for (KeyInfo k : backend(keys::list)) {
      out.add(view(k, false));
    }
    return Map.of("keys", out);
  }

  /** The body of a generation: {@code backend}, {@code type}, {@code label}. */
  public record NewKey(String backend, String type, String label) {}

  /** Generates a key: EC_P256, EC_P384, RSA_3072 or SM2 (software backend only). */
  @PostMapping(
      value = "/sign/v1/keys",
      consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  public ResponseEntity<Map<String, Object>> generate(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      jakarta.servlet.http.HttpServletRequest request) {
    callers.authenticate("seal:admin", authorization);
    NewKey body = body(request, NewKey.class); // read only after the caller is known
    if (body == null || body.label() == null || !body.label().matches("[a-z0-9][a-z0-9-]{0,63}")) {
      throw new SignException(Code.INVALID_REQUEST, "label: 1-64 of a-z 0-9 -");
    }
    KeyRef.Scheme scheme = null;
    for (KeyRef.Scheme s : KeyRef.Scheme.values()) {
      if (s.uriScheme().equals(body.backend())) {
        scheme = s;
      }
    }
    if (scheme == null) {
      throw new SignException(Code.INVALID_REQUEST, "backend: soft, pkcs11 or vault-transit");
    }
    KeySpec spec;
    try {
      spec = KeySpec.valueOf(String.valueOf(body.type()));
    } catch (IllegalArgumentException e) {
      spec = null;
    }
    if (spec == null || spec == KeySpec.ED25519) {
      throw new SignException(Code.INVALID_REQUEST, "type: EC_P256, EC_P384, RSA_3072 or SM2");
    }
    KeyRef.Scheme s = scheme;
    String label = body.label();
    boolean exists =
        backend(keys::list).stream()
            .anyMatch(k -> k.ref().scheme() == s && k.ref().label().equals(label));
    if (exists) {
      throw new SignException(Code.INVALID_REQUEST, "label: a key with this label exists");
    }
    KeySpec type = spec;
    KeyInfo k = backend(() -> keys.generate(s, type, label));
    return ResponseEntity.status(HttpStatus.CREATED).body(view(k, true));
  }

  /** The body of a request for a CSR: the key's URI and the subject DN (RFC 4514 text). */
  public record CsrRequest(String key, String subject) {}

  /** A PKCS#10 request signed by the key in the backend, for the CA. */
  @PostMapping(
      value = "/sign/v1/keys/csr",
      consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = "application/pkcs10")
  public String csr(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      jakarta.servlet.http.HttpServletRequest request) {
    String caller = callers.authenticate("seal:admin", authorization).actor();
    CsrRequest body = body(request, CsrRequest.class);
    if (body == null || body.key() == null || body.subject() == null) {
      throw new SignException(Code.INVALID_REQUEST, "key and subject are required");
    }
    KeyRef ref;
    X500Name subject;
    try {
      ref = KeyRef.parse(body.key());
      subject = new X500Name(BCStyle.INSTANCE, body.subject());
    } catch (RuntimeException e) {
      throw new SignException(Code.INVALID_REQUEST, "key or subject does not parse");
    }
    KeyInfo info = backend(() -> keys.describe(ref));
    SignatureAlgorithm alg = info.spec().defaultAlgorithm();
    try {
      byte[] der =
          new PKCS10CertificationRequestBuilder(
                  subject, SubjectPublicKeyInfo.getInstance(info.publicKey().getEncoded()))
              .build(new KeyServiceContentSigner(keys, ref, alg, "csr:" + caller))
              .getEncoded();
      return "-----BEGIN CERTIFICATE REQUEST-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
              .encodeToString(der)
          + "\n-----END CERTIFICATE REQUEST-----\n";
    } catch (IOException e) {
      throw new SignException(Code.UNAVAILABLE, "the request could not be encoded");
    }
  }

  /** Largest request body: a label or a key URI and a DN. */
  static final int MAX_BODY = 4_096;

  /** The JSON body, read at most {@link #MAX_BODY} bytes far and strictly ({@link JsonBodies}). */
  private static <T> T body(jakarta.servlet.http.HttpServletRequest request, Class<T> type) {
    return JsonBodies.read(request, MAX_BODY, type);
  }

  private static Map<String, Object> view(KeyInfo k, boolean withPublicKey) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("key", k.ref().toString());
    m.put("backend", k.ref().scheme().uriScheme());
    m.put("type", k.spec().name());
    byte[] spki = k.publicKey().getEncoded();
    try {
      m.put(
          "publicKeySha256",
          HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(spki)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    if (withPublicKey) {
      m.put(
          "publicKey",
          "-----BEGIN PUBLIC KEY-----\n"
              + Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                  .encodeToString(spki)
              + "\n-----END PUBLIC KEY-----\n");
    }
    return m;
  }

  /** Runs a key-backend call, turning its errors into the API's. */
  private static <T> T backend(java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (KeyException e) {
      switch (e.code()) {
        case KEY_NOT_FOUND -> throw new SignException(Code.NOT_FOUND, "no such key");
        case INVALID_REQUEST, UNSUPPORTED_ALGORITHM ->
            throw new SignException(Code.INVALID_REQUEST, "the backend refused: " + e.code());
        default -> throw new SignException(Code.UNAVAILABLE, "the key backend is unavailable");
      }
    }
  }
}
