package io.yinxin.ca.http;

import io.yinxin.ca.CaException;
import io.yinxin.ca.Pem;
import io.yinxin.ca.crl.CrlService;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.issue.IssuanceService;
import io.yinxin.ca.issue.IssuanceService.IssueRequest;
import io.yinxin.ca.issue.Issuer;
import io.yinxin.ca.profile.Profile;
import io.yinxin.ca.revoke.RevocationReason;
import io.yinxin.ca.revoke.RevocationService;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import io.yinxin.ca.store.CertificateRecord.Status;
import io.yinxin.ca.store.CertificateStore;
import io.yinxin.ca.store.CrlStore.CrlRecord;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * The CA's REST API for registration-authority operators (JSON; certificates and CSRs in PEM):
 * issue, get, search, revoke, hold, release, publish CRLs. Errors are RFC 9457 problem+json with a
 * stable {@code code} and, for input errors, the {@code field} at fault.
 */
@RestController
public class CaController {
  /** Largest request body: a 64 KiB CSR plus its JSON envelope. */
  static final int MAX_BODY = 80_000;

  private static final MediaType PEM_CHAIN =
      MediaType.parseMediaType("application/pem-certificate-chain");

  private final Hierarchy hierarchy;
  private final IssuanceService issuance;
  private final RevocationService revocation;
  private final CrlService crls;
  private final CaStore store;
  private final CaOperators operators;

  /**
   * Strict JSON: a member given twice is refused (which one would count is up to the parser, and
   * two parsers may disagree), and so is anything after the object.
   */
  private final JsonMapper json =
      JsonMapper.builder()
          .enable(tools.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(tools.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  public CaController(
      Hierarchy hierarchy,
      IssuanceService issuance,
      RevocationService revocation,
      CrlService crls,
      CaStore store,
      CaOperators operators) {
    this.hierarchy = hierarchy;
    this.issuance = issuance;
    this.revocation = revocation;
    this.crls = crls;
    this.store = store;
    this.operators = operators;
  }

  /** Issues a certificate from a PKCS#10 CSR under a profile. Scope {@code ca:issue}. */
  @PostMapping("/ca/v1/certificates")
  public ResponseEntity<?> issue(
      HttpServletRequest request,
      @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String auth,
      @RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept) {
    String actor = operators.require("ca:issue", auth);
    Map<String, Object> body = object(request);
    Map<String, Object> san = optObject(body, "san");
    for (String k : san.keySet()) {
      if (!k.equals("dns") && !k.equals("email")) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST, "san", "takes only dns and email lists");
      }
    }
    IssueRequest req =
        new IssueRequest(
            string(body, "profile", true),
            string(body, "csr", true),
            strings(optObject(body, "subject"), "subject"),
            list(san, "dns", "san.dns"),
            list(san, "email", "san.email"));
    for (String k : body.keySet()) {
      if (!List.of("profile", "csr", "subject", "san").contains(k)) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST,
            "body",
            "unknown member; expected profile, csr, subject, san");
      }
    }
    IssuanceService.Issued issued =
        issuance.issue(actor, io.yinxin.ca.profile.Profile.Channel.REST, req);
    URI location =
        URI.create(
            "/ca/v1/certificates/" + issued.record().issuer() + "/" + issued.record().serial());
    if (accept != null && accept.contains("application/pem-certificate-chain")) {
      StringBuilder pem = new StringBuilder(Pem.certificate(issued.record().der()));
      for (Issuer i : issued.chain()) {
        if (!isRoot(i)) {
          pem.append(Pem.certificate(i.encoded()));
        }
      }
      return ResponseEntity.created(location).contentType(PEM_CHAIN).body(pem.toString());
    }
    Map<String, Object> out = view(issued.record());
    List<String> chain = new ArrayList<>();
    for (Issuer i : issued.chain()) {
      chain.add(Pem.certificate(i.encoded()));
    }
    out.put("chain", chain);
    return ResponseEntity.created(location).body(out);
  }

  /** One certificate. Scope {@code ca:read}. {@code ?format=pem} answers the PEM alone. */
  @GetMapping("/ca/v1/certificates/{issuer}/{serial}")
  public ResponseEntity<?> get(
      @PathVariable String issuer,
      @PathVariable String serial,
      @RequestParam(required = false) String format,
      @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String auth) {
    operators.require("ca:read", auth);
    CertificateRecord r = find(issuer, serial);
    if ("pem".equals(format)) {
      return ResponseEntity.ok()
          .contentType(MediaType.parseMediaType("application/x-pem-file"))
          .body(Pem.certificate(r.der()));
    }
    return ResponseEntity.ok(view(r));
  }

  /**
   * Searches certificates, newest first, a page at a time. Scope {@code ca:read}. {@code after} is
   * the {@code next} of the previous page ({@code issuer/serial} of its last certificate), present
   * when that page was full.
   */
  @GetMapping("/ca/v1/certificates")
  public Map<String, Object> search(
      @RequestParam(required = false) String issuer,
      @RequestParam(required = false) String profile,
      @RequestParam(required = false) String status,
      @RequestParam(required = false) String subject,
      @RequestParam(required = false) String after,
      @RequestParam(defaultValue = "100") int limit,
      @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String auth) {
    operators.require("ca:read", auth);
    Optional<CertificateStore.Position> position = Optional.empty();
    if (after != null) {
      // One spelling: a CA's name and the serial as this API writes it (lower-case hex).
      int slash = after.indexOf('/');
      if (slash < 1
          || !after.substring(0, slash).matches("[a-z0-9][a-z0-9-]{0,62}")
          || !after.substring(slash + 1).matches("[0-9a-f]{1,40}")) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST, "after", "the issuer/serial of a listed certificate");
      }
      position =
          Optional.of(
              new CertificateStore.Position(after.substring(0, slash), after.substring(slash + 1)));
    }
    if (limit < 1 || limit > 1000) {
      throw new CaException(CaException.Code.INVALID_REQUEST, "limit", "must be 1-1000");
    }
    Optional<Status> st = Optional.empty();
    if (status != null) {
      st =
          Optional.of(
              switch (status) {
                case "valid" -> Status.VALID;
                case "revoked" -> Status.REVOKED;
                case "on-hold" -> Status.ON_HOLD;
                default ->
                    throw new CaException(
                        CaException.Code.INVALID_REQUEST, "status", "valid, revoked or on-hold");
              });
    }
    if (subject != null && (subject.isEmpty() || subject.length() > 256)) {
      throw new CaException(CaException.Code.INVALID_REQUEST, "subject", "1-256 characters");
    }
    // A misspelt CA or profile matches nothing: said so, rather than an empty list that reads
    // like "no such certificates".
    if (issuer != null && hierarchy.config().ca(issuer).isEmpty()) {
      throw new CaException(CaException.Code.INVALID_REQUEST, "issuer", "no such CA");
    }
    if (profile != null && !hierarchy.config().profiles().containsKey(profile)) {
      throw new CaException(CaException.Code.INVALID_REQUEST, "profile", "no such profile");
    }
    List<Map<String, Object>> items = new ArrayList<>();
    for (CertificateRecord r :
        store
            .certificates()
            .search(
                Optional.ofNullable(issuer),
                Optional.ofNullable(profile),
                st,
                Optional.ofNullable(subject),
                position,
                limit)) {
      Map<String, Object> v = view(r);
      v.remove("certificate");
      items.add(v);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("items", items);
    out.put(
        "next",
        items.size() == limit
            ? items.get(limit - 1).get("issuer") + "/" + items.get(limit - 1).get("serial")
            : null);
    return out;
  }

  /**
   * Revokes a certificate with an RFC 5280 reason; {@code certificateHold} puts it on hold. Scope
   * {@code ca:revoke}.
   */
  @PostMapping("/ca/v1/certificates/{issuer}/{serial}/revoke")
  public Map<String, Object> revoke(
      @PathVariable String issuer,
      @PathVariable String serial,
      HttpServletRequest request,
      @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String auth) {
    String actor = operators.require("ca:revoke", auth);
    Map<String, Object> body = request.getContentLengthLong() == 0 ? Map.of() : object(request);
    for (String k : body.keySet()) {
      if (!k.equals("reason") && !k.equals("invalidityDate")) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST,
            "body",
            "unknown member; expected reason, invalidityDate");
      }
    }
    String reason = body.containsKey("reason") ? string(body, "reason", true) : "unspecified";
    java.util.Optional<java.time.Instant> invalidity = java.util.Optional.empty();
    if (body.containsKey("invalidityDate")) {
      try {
        invalidity =
            java.util.Optional.of(java.time.Instant.parse(string(body, "invalidityDate", true)));
      } catch (java.time.format.DateTimeParseException e) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST,
            "invalidityDate",
            "must be an RFC 3339 instant in UTC, e.g. 2026-11-30T08:00:00Z");
      }
    }
    hierarchy.issuer(issuer);
    return view(revocation.revoke(actor, issuer, serial, reason, invalidity));
  }

  /** Releases a certificate from hold. Scope {@code ca:revoke}. */
  @PostMapping("/ca/v1/certificates/{issuer}/{serial}/release")
  public Map<String, Object> release(
      @PathVariable String issuer,
      @PathVariable String serial,
      @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String auth) {
    String actor = operators.require("ca:revoke", auth);
    hierarchy.issuer(issuer);
    return view(revocation.release(actor, issuer, serial));
  }

  /**
   * Publishes a full (or, with {@code ?delta=true}, delta) CRL for one partition now. Scope {@code
   * ca:crl}.
   */
  @PostMapping("/ca/v1/cas/{ca}/crls")
  public Map<String, Object> publishCrl(
      @PathVariable String ca,
      @RequestParam(defaultValue = "0") int partition,
      @RequestParam(defaultValue = "false") boolean delta,
      @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String auth) {
    operators.require("ca:crl", auth);
    hierarchy.issuer(ca);
    if (partition < 0) {
      throw new CaException(CaException.Code.INVALID_REQUEST, "partition", "must be 0 or more");
    }
    CrlRecord r = delta ? crls.publishDelta(ca, partition) : crls.publishFull(ca, partition);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("issuer", r.issuer());
    out.put("number", r.number());
    out.put("partition", r.partition());
    r.baseNumber().ifPresent(b -> out.put("baseNumber", b));
    out.put("thisUpdate", r.thisUpdate().toString());
    out.put("nextUpdate", r.nextUpdate().toString());
    out.put("entries", r.entries());
    out.put("bytes", r.der().length);
    out.put(
        "url",
        delta ? hierarchy.urls().deltaCrl(ca, partition) : hierarchy.urls().crl(ca, partition));
    return out;
  }

  /** The profiles clients may request, and the fields each takes. Public. */
  @GetMapping("/ca/v1/profiles")
  public Map<String, Object> profiles() {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Profile p : hierarchy.config().profiles().values()) {
      if (p.issuer().equals("*")) {
        continue;
      }
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("issuer", p.issuer());
      v.put("keyTypes", p.keyTypes().stream().map(Enum::name).sorted().toList());
      v.put("validityDays", p.validityDays());
      v.put("keyUsage", p.keyUsage().stream().sorted().toList());
      v.put("extendedKeyUsage", p.extendedKeyUsage());
      v.put("subjectFields", p.subject().fields());
      v.put("dns", p.san().dns().name().toLowerCase(Locale.ROOT));
      v.put("email", p.san().email().name().toLowerCase(Locale.ROOT));
      out.put(p.name(), v);
    }
    return out;
  }

  private CertificateRecord find(String issuer, String serial) {
    hierarchy.issuer(issuer);
    return store
        .certificates()
        .certificate(issuer, RevocationService.normalizeSerial(serial))
        .orElseThrow(() -> new CaException(CaException.Code.NOT_FOUND, "no such certificate"));
  }

  private boolean isRoot(Issuer i) {
    return hierarchy.config().ca(i.name()).map(c -> c.isRoot()).orElse(false);
  }

  static Map<String, Object> view(CertificateRecord r) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("issuer", r.issuer());
    v.put("serial", r.serial());
    v.put("profile", r.profile());
    v.put("subject", r.subject());
    v.put(
        "status",
        switch (r.status()) {
          case VALID -> "valid";
          case REVOKED -> "revoked";
          case ON_HOLD -> "on-hold";
        });
    v.put("notBefore", r.notBefore().toString());
    v.put("notAfter", r.notAfter().toString());
    r.revokedAt().ifPresent(t -> v.put("revokedAt", t.toString()));
    r.reason().ifPresent(c -> v.put("reason", RevocationReason.ofCode(c).rfcName()));
    r.invalidityDate().ifPresent(t -> v.put("invalidityDate", t.toString()));
    v.put("certificate", Pem.certificate(r.der()));
    return v;
  }

  // ---- request parsing: strict, bounded, with the field at fault in every error

  private Map<String, Object> object(HttpServletRequest request) {
    byte[] body;
    try {
      body =
          io.yinxin.ca.Bodies.read(request, MAX_BODY)
              .orElseThrow(
                  () ->
                      new CaException(
                          CaException.Code.TOO_LARGE,
                          "body",
                          "request body exceeds " + MAX_BODY + " bytes"));
    } catch (IOException e) {
      throw new CaException(CaException.Code.INVALID_REQUEST, "body", "could not be read");
    }
    Object o;
    try {
      o = json.readValue(body, Object.class);
    } catch (JacksonException e) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST,
          "body",
          String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("duplicate")
              ? "a member appears twice"
              : "not valid JSON");
    }
    if (!(o instanceof Map<?, ?> m)) {
      throw new CaException(CaException.Code.INVALID_REQUEST, "body", "a JSON object is expected");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> map = (Map<String, Object>) m;
    return map;
  }

  private static Map<String, Object> optObject(Map<String, Object> m, String name) {
    Object v = m.get(name);
    if (v == null) {
      return Map.of();
    }
    if (!(v instanceof Map<?, ?> x)) {
      throw new CaException(CaException.Code.INVALID_REQUEST, name, "must be an object");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> map = (Map<String, Object>) x;
    return map;
  }

  private static String string(Map<String, Object> m, String name, boolean required) {
    Object v = m.get(name);
    if (v == null && !required) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw new CaException(CaException.Code.INVALID_REQUEST, name, "must be a string");
    }
    return s;
  }

  private static Map<String, String> strings(Map<String, Object> m, String where) {
    Map<String, String> out = new LinkedHashMap<>();
    for (var e : m.entrySet()) {
      if (!(e.getValue() instanceof String s)) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST, where, "subject fields must be strings");
      }
      out.put(e.getKey(), s);
    }
    return out;
  }

  private static List<String> list(Map<String, Object> m, String name, String field) {
    Object v = m.get(name);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> l) || l.size() > 1000) {
      throw new CaException(CaException.Code.INVALID_REQUEST, field, "must be a list of strings");
    }
    List<String> out = new ArrayList<>();
    for (Object x : l) {
      if (!(x instanceof String s)) {
        throw new CaException(CaException.Code.INVALID_REQUEST, field, "must be a list of strings");
      }
      out.add(s);
    }
    return out;
  }
}
