package io.yinxin.sign.http;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import io.yinxin.sign.csc.CscAlgorithms;
import io.yinxin.sign.csc.SignatureActivations;
import io.yinxin.sign.pades.RevocationFetcher;
import io.yinxin.sign.registry.RegisteredSeal;
import io.yinxin.sign.registry.Seal;
import io.yinxin.sign.registry.SealRegistry;
import io.yinxin.sign.registry.SealSummary;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Remote hash signing with seals held here, by the Cloud Signature Consortium API v2 ({@code
 * /csc/v2/info}, {@code credentials/list}, {@code credentials/info}, {@code credentials/authorize},
 * {@code signatures/signHash}), so existing CSC clients seal with keys that never leave the key
 * backend. A credential is a seal granted to the caller; the caller authenticates as on the seal
 * API (bearer token with scope {@code seal:use}). Signature activation is implicit (SCAL1, as for
 * an organisation's seal): {@code credentials/authorize} issues a SAD bound to the seal, the caller
 * and the hashes; {@code signHash} takes that SAD, or none when the bearer token itself is the
 * credential authorization, as the API allows. Every {@code signHash} is a {@code HASH_SIGNED}
 * audit event, durable before the signatures are returned. Errors are the API's JSON ({@code
 * error}, {@code error_description}).
 */
@RestController
@RequestMapping("/csc/v2")
public class CscController {
  static final String SPECS = "2.0.0.2";
  private static final int MAX_BODY = 64 * 1024;
  private static final JsonMapper JSON =
      JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
  private static final DateTimeFormatter GENERALIZED =
      DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final String LOGO =
      "data:image/svg+xml;base64,"
          + Base64.getEncoder()
              .encodeToString(
                  ("<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'><circle cx='32'"
                          + " cy='32' r='29' fill='none' stroke='#d40000' stroke-width='5'/></svg>")
                      .getBytes(java.nio.charset.StandardCharsets.UTF_8));

  private final SealRegistry registry;
  private final Callers callers;
  private final KeyService keys;
  private final AuditLog audit;
  private final SignatureActivations activations;
  private final RevocationFetcher revocation;
  private final Optional<String> oauth2Issuer;
  private final Clock clock;

  public CscController(
      SealRegistry registry,
      Callers callers,
      KeyService keys,
      AuditLog audit,
      SignatureActivations activations,
      RevocationFetcher revocation,
      Optional<String> oauth2Issuer,
      Clock clock) {
    this.registry = registry;
    this.callers = callers;
    this.keys = keys;
    this.audit = audit;
    this.activations = activations;
    this.revocation = revocation;
    this.oauth2Issuer = oauth2Issuer;
    this.clock = clock;
  }

  @PostMapping(path = "/info", produces = "application/json")
  public Map<String, Object> info(HttpServletRequest request) throws IOException {
    JsonNode body = body(request, true);
    optionalText(body, "lang");
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("specs", SPECS);
    out.put("name", "Yinxin 印信");
    out.put("logo", LOGO);
    out.put("region", "CN");
    out.put("lang", "zh-CN");
    out.put("description", "Yinxin electronic seals (印信电子印章): remote hash signing");
    if (oauth2Issuer.isPresent()) {
      out.put("authType", List.of("oauth2client", "oauth2code"));
      out.put("oauth2", oauth2Issuer.get());
    } else {
      out.put("authType", List.of("external"));
    }
    out.put(
        "methods",
        List.of(
            "credentials/list",
            "credentials/info",
            "credentials/authorize",
            "signatures/signHash"));
    return out;
  }

  @PostMapping(path = "/credentials/list", produces = "application/json")
  public Map<String, Object> list(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      HttpServletRequest request)
      throws IOException {
    Callers.Caller caller = callers.authenticate("seal:use", authorization);
    JsonNode body = body(request, true);
    optionalText(body, "userID")
        .filter(u -> !caller.names().contains(u))
        .ifPresent(
            u -> {
              throw invalid("Invalid parameter userID");
            });
    boolean withInfo = optionalBoolean(body, "credentialInfo");
    boolean onlyValid = optionalBoolean(body, "onlyValid");
    String certificates = certificatesParameter(body);
    boolean certInfo = optionalBoolean(body, "certInfo");
    boolean authInfo = optionalBoolean(body, "authInfo");
    int maxResults = maxResults(body);
    Optional<String> after = pageToken(body);
    List<String> ids = new ArrayList<>();
    List<Map<String, Object>> infos = new ArrayList<>();
    String next = null;
    // Pages of the granted seals in id order, read until one more credential than asked is found
    // (then this page ends at the one before it) or the seals run out.
    Optional<String> cursor = after;
    int batch = Math.min(SealRegistry.MAX_PAGE, maxResults + 1);
    scan:
    while (true) {
      List<SealSummary> granted = registry.grantedTo(caller.names(), cursor, batch);
      for (SealSummary seal : granted) {
        if (CscAlgorithms.offered(seal.algorithm()).isEmpty()) {
          continue; // a key the CSC algorithms do not cover
        }
        if (onlyValid && !(seal.active() && certificateValid(seal))) {
          continue;
        }
        if (ids.size() == maxResults) {
          next = ids.get(ids.size() - 1);
          break scan;
        }
        ids.add(seal.id());
        if (withInfo) {
          Map<String, Object> info = new LinkedHashMap<>();
          info.put("credentialID", seal.id());
          info.putAll(describe(seal, certificates, certInfo, authInfo));
          infos.add(info);
        }
      }
      if (granted.size() < batch) {
        break;
      }
      cursor = Optional.of(granted.get(granted.size() - 1).id());
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("credentialIDs", ids);
    if (withInfo) {
      out.put("credentialInfos", infos);
    }
    if (next != null) {
      out.put(
          "nextPageToken",
          Base64.getUrlEncoder()
              .withoutPadding()
              .encodeToString(next.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
    out.put("onlyValid", onlyValid);
    return out;
  }

  /** Credentials per page of {@code credentials/list}: 1 to this many ({@code maxResults}). */
  static final int MAX_RESULTS = 1000;

  private static int maxResults(JsonNode body) {
    JsonNode n = body.get("maxResults");
    if (n == null || n.isNull()) {
      return MAX_RESULTS;
    }
    if (!n.isIntegralNumber()
        || !n.canConvertToInt()
        || n.intValue() < 1
        || n.intValue() > MAX_RESULTS) {
      throw invalid("Invalid parameter maxResults: an integer from 1 to " + MAX_RESULTS);
    }
    return n.intValue();
  }

  /**
   * The {@code nextPageToken} an earlier page answered: the last credential it listed (the list is
   * in credential order, so a page goes on after it however seals were added or removed since).
   */
  private static Optional<String> pageToken(JsonNode body) {
    Optional<String> t = optionalText(body, "pageToken");
    if (t.isEmpty()) {
      return t;
    }
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(t.get());
    } catch (IllegalArgumentException e) {
      throw invalid("Invalid parameter pageToken");
    }
    String id = new String(raw, java.nio.charset.StandardCharsets.UTF_8);
    // Only the canonical encoding of a seal id: one token per position.
    if (id.isEmpty()
        || id.length() > 200
        || !t.get()
            .equals(
                Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(id.getBytes(java.nio.charset.StandardCharsets.UTF_8)))) {
      throw invalid("Invalid parameter pageToken");
    }
    return Optional.of(id);
  }

  @PostMapping(path = "/credentials/info", produces = "application/json")
  public Map<String, Object> credentialInfo(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      HttpServletRequest request)
      throws IOException {
    CredentialRequest r = credentialRequest(authorization, request, false);
    Callers.Caller caller = r.caller();
    JsonNode body = r.body();
    Seal seal = r.seal();
    return describe(
        seal,
        certificatesParameter(body),
        optionalBoolean(body, "certInfo"),
        optionalBoolean(body, "authInfo"));
  }

  @PostMapping(path = "/credentials/authorize", produces = "application/json")
  public Map<String, Object> authorize(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      HttpServletRequest request)
      throws IOException {
    CredentialRequest r = credentialRequest(authorization, request, true);
    Callers.Caller caller = r.caller();
    JsonNode body = r.body();
    Seal seal = r.seal();
    JsonNode n = body.get("numSignatures");
    if (n == null || !n.isIntegralNumber() || !n.canConvertToInt()) {
      throw invalid("Missing (or invalid type) integer parameter numSignatures");
    }
    List<byte[]> hashes = List.of();
    if (body.has("hashes")) {
      int length =
          CscAlgorithms.hashLength(
              optionalText(body, "hashAlgorithmOID")
                  .orElseThrow(
                      () ->
                          invalid("Missing (or invalid type) string parameter hashAlgorithmOID")));
      hashes = hashes(body, length);
    }
    SignatureActivations.Activation a =
        activations.issue(seal.id(), caller.actor(), hashes, n.intValue());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("SAD", a.sad());
    out.put("expiresIn", a.expiresInSeconds());
    return out;
  }

  @PostMapping(path = "/signatures/signHash", produces = "application/json")
  public Map<String, Object> signHash(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      HttpServletRequest request)
      throws IOException {
    CredentialRequest r = credentialRequest(authorization, request, true);
    Callers.Caller caller = r.caller();
    JsonNode body = r.body();
    Seal seal = r.seal();
    if (optionalText(body, "operationMode").filter(m -> !m.equals("S")).isPresent()) {
      throw invalid("Invalid parameter operationMode: only synchronous (S) signing is offered");
    }
    Optional<byte[]> params =
        optionalText(body, "signAlgoParams").map(p -> base64(p, "signAlgoParams"));
    SignatureAlgorithm alg =
        CscAlgorithms.resolve(
            optionalText(body, "signAlgo")
                .orElseThrow(() -> invalid("Missing (or invalid type) string parameter signAlgo")),
            optionalText(body, "hashAlgorithmOID"),
            params);
    List<byte[]> hashes = hashes(body, CscAlgorithms.digestLength(alg));
    Optional<String> sad = optionalText(body, "SAD");
    Instant now = clock.instant();
    X509CertificateHolder cert = seal.chain().get(0);
    if (!cert.isValidOn(java.util.Date.from(now))) {
      throw invalid("the credential's certificate is not valid now");
    }
    revocation.forChain(seal.chain()); // CERTIFICATE_REVOKED for a revoked seal certificate
    sad.ifPresent(s -> activations.spend(s, seal.id(), caller.actor(), hashes));
    List<String> signatures = new ArrayList<>(hashes.size());
    for (byte[] h : hashes) {
      signatures.add(
          Base64.getEncoder()
              .encodeToString(
                  keys.signDigestRecordedByCaller(
                      seal.key(), alg, h, "csc:signHash " + seal.id())));
    }
    // The record of every digest the key signed: it names the key, so the signatures above add
    // no KEY_USED event each; nothing is returned before it is durable.
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("key", seal.key().toString());
    attributes.put("signAlgo", alg.name());
    attributes.put("count", Integer.toString(hashes.size()));
    attributes.put(
        "hashes", String.join(",", hashes.stream().map(HexFormat.of()::formatHex).toList()));
    attributes.put("activation", sad.isPresent() ? "SAD" : "bearer token");
    audit.append(AuditEvent.of(EventType.HASH_SIGNED, caller.actor(), seal.id(), attributes));
    return Map.of("signatures", signatures);
  }

  /** An authenticated request naming one of the caller's credentials. */
  private record CredentialRequest(Callers.Caller caller, JsonNode body, Seal seal) {}

  private CredentialRequest credentialRequest(
      String authorization, HttpServletRequest request, boolean forSigning) throws IOException {
    Callers.Caller caller = callers.authenticate("seal:use", authorization);
    JsonNode body = body(request, false);
    return new CredentialRequest(caller, body, credential(body, caller, forSigning));
  }

  // --- request parsing -------------------------------------------------------------------------

  private static JsonNode body(HttpServletRequest request, boolean mayBeEmpty) throws IOException {
    byte[] raw =
        BoundedBody.read(request.getInputStream(), request.getContentLengthLong(), MAX_BODY);
    if (raw.length == 0 && mayBeEmpty) {
      return JSON.createObjectNode();
    }
    JsonNode node;
    try {
      node = JSON.readTree(raw);
    } catch (JacksonException e) {
      throw invalid("the body is not a JSON object");
    }
    if (node == null || !node.isObject()) {
      throw invalid("the body is not a JSON object");
    }
    return node;
  }

  private static Optional<String> optionalText(JsonNode body, String name) {
    JsonNode n = body.get(name);
    if (n == null || n.isNull()) {
      return Optional.empty();
    }
    if (!n.isString()) {
      throw invalid("Invalid parameter " + name);
    }
    return Optional.of(n.asString());
  }

  private static boolean optionalBoolean(JsonNode body, String name) {
    JsonNode n = body.get(name);
    if (n == null || n.isNull()) {
      return false;
    }
    if (!n.isBoolean()) {
      throw invalid("Invalid parameter " + name);
    }
    return n.booleanValue();
  }

  private static String certificatesParameter(JsonNode body) {
    String c = optionalText(body, "certificates").orElse("single");
    if (!List.of("none", "single", "chain").contains(c)) {
      throw invalid("Invalid parameter certificates");
    }
    return c;
  }

  private static List<byte[]> hashes(JsonNode body, int length) {
    JsonNode array = body.get("hashes");
    if (array == null || !array.isArray() || array.isEmpty()) {
      throw invalid("Missing (or invalid type) array parameter hashes");
    }
    if (array.size() > SignatureActivations.MAX_HASHES) {
      throw invalid("at most " + SignatureActivations.MAX_HASHES + " hashes per request");
    }
    List<byte[]> out = new ArrayList<>(array.size());
    for (JsonNode h : array) {
      if (!h.isString()) {
        throw invalid("Invalid parameter hashes");
      }
      byte[] digest = base64(h.asString(), "hashes");
      if (digest.length != length) {
        throw invalid("Invalid digest value length");
      }
      out.add(digest);
    }
    return out;
  }

  private static byte[] base64(String value, String name) {
    try {
      byte[] b = Base64.getDecoder().decode(value);
      // One encoding per value: a re-encoding that differs is refused, not silently accepted.
      if (!Base64.getEncoder().encodeToString(b).equals(value)) {
        throw invalid("Invalid Base64 " + name);
      }
      return b;
    } catch (IllegalArgumentException e) {
      throw invalid("Invalid Base64 " + name);
    }
  }

  /** The seal a request names, granted to the caller; unknown and not granted look the same. */
  private Seal credential(JsonNode body, Callers.Caller caller, boolean forSigning) {
    String id =
        optionalText(body, "credentialID")
            .orElseThrow(() -> invalid("Missing (or invalid type) string parameter credentialID"));
    Optional<Seal> seal = registry.find(id);
    if (seal.isEmpty()
        || caller.names().stream().noneMatch(n -> registry.granted(id, n))
        || CscAlgorithms.offered(seal.get().algorithm()).isEmpty()) {
      throw invalid("Invalid parameter credentialID");
    }
    if (forSigning && !seal.get().active()) {
      throw invalid("the credential is disabled");
    }
    return seal.get();
  }

  // --- answers ---------------------------------------------------------------------------------

  private Map<String, Object> describe(
      RegisteredSeal seal, String certificates, boolean certInfo, boolean authInfo) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("description", seal.name() + (seal.subLine().isEmpty() ? "" : " " + seal.subLine()));
    out.put("signatureQualifier", "eu_eseal");
    Map<String, Object> key = new LinkedHashMap<>();
    key.put("status", seal.active() ? "enabled" : "disabled");
    key.put("algo", CscAlgorithms.offered(seal.algorithm()));
    X509CertificateHolder leaf = seal.chain().get(0);
    PublicKey pk = publicKey(leaf);
    if (pk instanceof RSAPublicKey rsa) {
      key.put("len", rsa.getModulus().bitLength());
    } else if (pk instanceof ECPublicKey ec) {
      key.put("len", ec.getParams().getOrder().bitLength());
      Object curve = leaf.getSubjectPublicKeyInfo().getAlgorithm().getParameters();
      key.put("curve", curve == null ? "" : curve.toString());
    }
    out.put("key", key);
    Map<String, Object> cert = new LinkedHashMap<>();
    cert.put("status", certificateValid(seal) ? "valid" : "expired");
    if (!certificates.equals("none")) {
      List<X509CertificateHolder> which =
          certificates.equals("chain") ? seal.chain() : List.of(leaf);
      cert.put("certificates", which.stream().map(CscController::der).toList());
    }
    if (certInfo) {
      cert.put("issuerDN", leaf.getIssuer().toString());
      cert.put("serialNumber", leaf.getSerialNumber().toString(16));
      cert.put("subjectDN", leaf.getSubject().toString());
      cert.put("validFrom", GENERALIZED.format(leaf.getNotBefore().toInstant()));
      cert.put("validTo", GENERALIZED.format(leaf.getNotAfter().toInstant()));
    }
    out.put("cert", cert);
    if (authInfo) {
      out.put("auth", Map.of("mode", "implicit"));
    }
    out.put("authMode", "implicit");
    out.put("SCAL", "1");
    out.put("multisign", SignatureActivations.MAX_HASHES);
    out.put("lang", "zh-CN");
    return out;
  }

  private boolean certificateValid(RegisteredSeal seal) {
    return seal.chain().get(0).isValidOn(java.util.Date.from(clock.instant()));
  }

  private static String der(X509CertificateHolder c) {
    try {
      return Base64.getEncoder().encodeToString(c.getEncoded());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static PublicKey publicKey(X509CertificateHolder c) {
    try {
      SubjectPublicKeyInfo spki = c.getSubjectPublicKeyInfo();
      return io.yinxin.hsm.PublicKeys.decode(spki.getEncoded());
    } catch (IOException | RuntimeException e) {
      throw new SignException(Code.UNAVAILABLE, "unreadable seal certificate key");
    }
  }

  private static SignException invalid(String message) {
    return new SignException(Code.INVALID_REQUEST, message);
  }

  // --- errors in the API's format ----------------------------------------------------------------

  @ExceptionHandler(SignException.class)
  public ResponseEntity<Map<String, String>> error(SignException e) {
    String error;
    HttpStatus status;
    switch (e.code()) {
      case UNAUTHORIZED:
        status = HttpStatus.UNAUTHORIZED;
        error = "invalid_token";
        break;
      case FORBIDDEN:
        status = HttpStatus.FORBIDDEN;
        error = "access_denied";
        break;
      case TOO_LARGE:
        status = HttpStatus.PAYLOAD_TOO_LARGE;
        error = "invalid_request";
        break;
      case UNAVAILABLE:
        status = HttpStatus.SERVICE_UNAVAILABLE;
        error = "temporarily_unavailable";
        break;
      default:
        status = HttpStatus.BAD_REQUEST;
        error = "invalid_request";
        break;
    }
    ResponseEntity.BodyBuilder b =
        ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON);
    if (status == HttpStatus.UNAUTHORIZED) {
      b.header("WWW-Authenticate", "Bearer realm=\"yinxin-csc\"");
    }
    return b.body(Map.of("error", error, "error_description", e.getMessage()));
  }

  @ExceptionHandler(KeyException.class)
  public ResponseEntity<Map<String, String>> keyError(KeyException e) {
    return error(
        e.code() == KeyException.Code.INVALID_REQUEST
                || e.code() == KeyException.Code.UNSUPPORTED_ALGORITHM
            ? invalid("Invalid parameter signAlgo: the credential's key does not sign with it")
            : new SignException(Code.UNAVAILABLE, "the key backend cannot sign now"));
  }
}
