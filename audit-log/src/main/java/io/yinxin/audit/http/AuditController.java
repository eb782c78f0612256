package io.yinxin.audit.http;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.audit.Receipt;
import io.yinxin.audit.merkle.Tiles;
import io.yinxin.audit.spring.AuditTokens;
import io.yinxin.audit.store.Cosignatures;
import io.yinxin.audit.store.EvidenceBundles;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogReader;
import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * The log's HTTP face. Public, read-only and cacheable (C2SP tlog-tiles): {@code
 * /audit/checkpoint}, {@code /audit/tile/...}, plus JSON proofs under {@code /audit/v1/proof} and
 * each checkpoint with its RFC 3161 time-stamp under {@code /audit/v1/checkpoints}. Privileged,
 * with a bearer token: appends ({@code POST /audit/v1/entries}), evidence bundles ({@code POST
 * /audit/v1/bundles}), the self-check; witnesses post cosignatures, which are verified against the
 * configured witness keys.
 */
@RestController
public class AuditController {
  private static final int MAX_BODY = 70_000;
  private static final MediaType TIMESTAMP_REPLY =
      MediaType.parseMediaType("application/timestamp-reply");

  private final LogReader reader;
  private final EvidenceBundles bundles;
  private final Cosignatures cosignatures;
  private final AuditLog log;
  private final AuditTokens tokens;
  private final Integrator integrator;
  private final io.yinxin.audit.store.CheckpointPublisher publisher;

  /**
   * Strict JSON in and out: a member given twice is refused (which one would count is up to the
   * parser, and two parsers may disagree), and so is anything after the object.
   */
  private final JsonMapper json =
      JsonMapper.builder()
          .enable(tools.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(tools.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  public AuditController(
      LogReader reader,
      EvidenceBundles bundles,
      Cosignatures cosignatures,
      AuditLog log,
      Integrator integrator,
      AuditTokens tokens,
      io.yinxin.audit.store.CheckpointPublisher publisher) {
    this.publisher = publisher;
    this.reader = reader;
    this.bundles = bundles;
    this.cosignatures = cosignatures;
    this.log = log;
    this.integrator = integrator;
    this.tokens = tokens;
  }

  @GetMapping(value = "/audit/checkpoint", produces = "text/plain; charset=utf-8")
  public ResponseEntity<String> checkpoint() {
    return ResponseEntity.ok()
        .cacheControl(CacheControl.noCache())
        .contentType(new MediaType("text", "plain", StandardCharsets.UTF_8))
        .body(reader.latestCheckpoint().text());
  }

  /** The signed checkpoint of one size, exactly the text its RFC 3161 time-stamp covers. */
  @GetMapping(value = "/audit/v1/checkpoints/{size}", produces = "text/plain; charset=utf-8")
  public ResponseEntity<String> checkpointAt(@PathVariable String size) {
    return ResponseEntity.ok()
        .contentType(new MediaType("text", "plain", StandardCharsets.UTF_8))
        .body(reader.checkpointNote(size(size)));
  }

  /** The TSA's reply (DER TimeStampResp, RFC 3161) over the checkpoint of one size. */
  @GetMapping("/audit/v1/checkpoints/{size}/timestamp")
  public ResponseEntity<byte[]> checkpointTimestamp(@PathVariable String size) {
    return ResponseEntity.ok()
        .contentType(TIMESTAMP_REPLY)
        .body(reader.checkpointTimestamp(size(size)));
  }

  private static long size(String text) {
    return decimal(text, "size");
  }

  /**
   * A non-negative number in its one canonical spelling: decimal digits, no sign, no leading zero,
   * no hex; {@code +135}, {@code 000135} and {@code 0x10} name no size or index here.
   */
  static long decimal(String text, String name) {
    if (text != null && text.matches("0|[1-9][0-9]{0,18}")) {
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException e) {
        // beyond a long: answered below
      }
    }
    throw new AuditException(
        Code.INVALID_REQUEST,
        name + " must be a non-negative decimal integer without sign or leading zeros");
  }

  @GetMapping("/audit/tile/**")
  public ResponseEntity<byte[]> tile(HttpServletRequest request) {
    String uri = request.getRequestURI();
    String rest = uri.substring(uri.indexOf("/audit/tile/") + "/audit/tile/".length());
    Tiles.TileId id =
        Tiles.parse(rest).orElseThrow(() -> new AuditException(Code.NOT_FOUND, "not a tile path"));
    CacheControl cache =
        id.full()
            ? CacheControl.maxAge(java.time.Duration.ofDays(365)).cachePublic().immutable()
            : CacheControl.maxAge(java.time.Duration.ofSeconds(1)).cachePublic();
    return ResponseEntity.ok()
        .cacheControl(cache)
        .contentType(MediaType.APPLICATION_OCTET_STREAM)
        .body(reader.tile(id));
  }

  @GetMapping(value = "/audit/v1/proof/inclusion", produces = MediaType.APPLICATION_JSON_VALUE)
  public String inclusion(
      @RequestParam("index") String index,
      @RequestParam(value = "size", required = false) String size) {
    LogReader.InclusionProof p =
        reader.inclusion(
            decimal(index, "index"), Optional.ofNullable(size).map(v -> decimal(v, "size")));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("index", p.index());
    out.put("size", p.size());
    out.put("leafHash", b64(p.leafHash()));
    out.put("proof", b64s(p.proof()));
    out.put("tlogProof", p.tlogProof().text());
    return json.writeValueAsString(out);
  }

  @GetMapping(value = "/audit/v1/proof/consistency", produces = MediaType.APPLICATION_JSON_VALUE)
  public String consistency(
      @RequestParam("from") String fromText, @RequestParam("to") String toText) {
    long from = decimal(fromText, "from");
    long to = decimal(toText, "to");
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("from", from);
    out.put("to", to);
    out.put("proof", b64s(reader.consistency(from, to)));
    return json.writeValueAsString(out);
  }

  @PostMapping(value = "/audit/v1/entries", produces = MediaType.APPLICATION_JSON_VALUE)
  public ResponseEntity<String> append(
      @RequestHeader(value = "Authorization", required = false) String auth,
      HttpServletRequest request) {
    tokens.require(AuditTokens.Role.WRITER, auth);
    AuditEvent event = parseEvent(body(request));
    String key = request.getHeader("Idempotency-Key");
    Receipt r = key == null ? log.append(event) : integrator.appendOnce(event, key);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("index", r.index());
    out.put("leafHash", b64(r.leafHash()));
    return ResponseEntity.status(HttpStatus.CREATED).body(json.writeValueAsString(out));
  }

  @PostMapping(value = "/audit/v1/bundles", produces = MediaType.APPLICATION_JSON_VALUE)
  public String bundle(
      @RequestHeader(value = "Authorization", required = false) String auth,
      HttpServletRequest request) {
    tokens.require(AuditTokens.Role.AUDITOR, auth);
    Map<String, Object> q = object(body(request));
    return bundles.bundle(
        new EvidenceBundles.BundleQuery(
            optString(q, "subject"),
            optString(q, "type"),
            optString(q, "from").map(AuditController::instant),
            optString(q, "to").map(AuditController::instant),
            Optional.ofNullable(q.get("knownSize")).map(v -> number(v, "knownSize")),
            Optional.ofNullable(q.get("limit")).map(AuditController::limit).orElse(100)));
  }

  /**
   * The self-check streamed as NDJSON for a client that shows progress ({@code ?progress=true}):
   * {@code {"checked": n, "size": N}} lines, at most about every 200 ms, then the report as the
   * last line.
   */
  @GetMapping(value = "/audit/v1/check", params = "progress=true")
  public void checkWithProgress(
      @RequestHeader(value = "Authorization", required = false) String auth,
      jakarta.servlet.http.HttpServletResponse response)
      throws java.io.IOException {
    tokens.require(AuditTokens.Role.AUDITOR, auth);
    // Written on this request's thread (no async timeout to outlast on a large log).
    response.setContentType("application/x-ndjson");
    response.setCharacterEncoding("UTF-8");
    var out = response.getOutputStream();
    long[] lastAt = {0};
    LogReader.CheckReport r =
        reader.check(
            (done, total) -> {
              long now = System.nanoTime();
              if (now - lastAt[0] < 200_000_000L && done < total) {
                return;
              }
              lastAt[0] = now;
              try {
                out.write(
                    ("{\"checked\":" + done + ",\"size\":" + total + "}\n")
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    out.write((json.writeValueAsString(checkView(r)) + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private static Map<String, Object> checkView(LogReader.CheckReport r) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("ok", r.ok());
    out.put("size", r.size());
    out.put("checkpointSize", r.checkpointSize());
    out.put("problems", r.problems());
    return out;
  }

  @GetMapping(value = "/audit/v1/check", produces = MediaType.APPLICATION_JSON_VALUE)
  public ResponseEntity<String> check(
      @RequestHeader(value = "Authorization", required = false) String auth) {
    tokens.require(AuditTokens.Role.AUDITOR, auth);
    LogReader.CheckReport r = reader.check();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("ok", r.ok());
    out.put("size", r.size());
    out.put("checkpointSize", r.checkpointSize());
    out.put("problems", r.problems());
    return ResponseEntity.status(r.ok() ? HttpStatus.OK : HttpStatus.CONFLICT)
        .body(json.writeValueAsString(out));
  }

  /**
   * Every key that has signed this log's checkpoints, the active one last: give verifiers the
   * active one; a checkpoint signed by a retired key stays verifiable with that key, and one it
   * signed at or after its {@code distrustedFrom} is not to be trusted. Public.
   */
  @GetMapping(value = "/audit/v1/keys", produces = MediaType.APPLICATION_JSON_VALUE)
  public String keys() {
    List<Object> out = new java.util.ArrayList<>();
    for (io.yinxin.audit.store.CheckpointKeys.Key k : publisher.checkpointKeys().all()) {
      out.add(keyView(k));
    }
    return json.writeValueAsString(Map.of("keys", out));
  }

  private static Map<String, Object> keyView(io.yinxin.audit.store.CheckpointKeys.Key k) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("verifierKey", k.verifierKey().toString());
    m.put("status", k.active() ? "active" : "retired");
    m.put("firstSize", k.firstSize());
    m.put("activatedAt", k.activatedAt().toString());
    k.retiredAt().ifPresent(t -> m.put("retiredAt", t.toString()));
    k.distrustedFrom().ifPresent(t -> m.put("distrustedFrom", t.toString()));
    return m;
  }

  /**
   * The emergency procedure for a compromised checkpoint key (scope {@code audit:admin}): a new key
   * in the same backend becomes the active key, the old one is retired and distrusted from {@code
   * distrustedFrom}; the rotation is itself an entry, so the new key's first checkpoint covers the
   * whole log, consistent with every checkpoint before it. {@code dryRun=true} changes nothing; the
   * run needs {@code confirm=rotate}.
   */
  @PostMapping(value = "/audit/v1/keys/rotate", produces = MediaType.APPLICATION_JSON_VALUE)
  public String rotate(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @RequestParam(required = false) String distrustedFrom,
      @RequestParam(defaultValue = "false") boolean dryRun,
      @RequestParam(required = false) String confirm) {
    tokens.require(AuditTokens.Role.ADMIN, auth);
    Optional<Instant> from = Optional.ofNullable(distrustedFrom).map(AuditController::instant);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("dryRun", dryRun);
    io.yinxin.audit.store.CheckpointKeys.Key old = publisher.checkpointKeys().refresh();
    out.put("oldKey", old.verifierKey().toString());
    from.ifPresent(t -> out.put("distrustedFrom", t.toString()));
    if (dryRun) {
      if (from.isPresent() && from.get().isAfter(Instant.now())) {
        throw new AuditException(Code.INVALID_REQUEST, "distrustedFrom must not be in the future");
      }
      return json.writeValueAsString(out);
    }
    if (!"rotate".equals(confirm)) {
      throw new AuditException(
          Code.INVALID_REQUEST, "confirm=rotate is required (or ask for dryRun=true)");
    }
    io.yinxin.audit.store.CheckpointKeys.Key fresh = publisher.checkpointKeys().rotate(from);
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("change", "checkpoint key rotated");
    attributes.put("oldKey", old.verifierKey().toString());
    attributes.put("newKey", fresh.verifierKey().toString());
    from.ifPresent(t -> attributes.put("distrustedFrom", t.toString()));
    io.yinxin.audit.Receipt receipt =
        log.append(
            io.yinxin.audit.AuditEvent.of(
                io.yinxin.audit.EventType.CONFIG_CHANGED,
                "audit-admin",
                "checkpoint-key",
                attributes));
    // The first checkpoint by the new key covers the rotation's own entry (another node may be
    // the one publishing: wait for it a little).
    long size = publisher.publish();
    for (int i = 0; i < 100 && size <= receipt.index(); i++) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      size = publisher.publish();
    }
    out.put("newKey", fresh.verifierKey().toString());
    out.put("checkpointSize", size);
    if (size > receipt.index()) {
      out.put("checkpoint", reader.checkpointNote(size));
    }
    return json.writeValueAsString(out);
  }

  static final int MAX_BUNDLE_LIMIT = EvidenceBundles.MAX_BUNDLE_EVENTS;

  private static int limit(Object v) {
    long l = number(v, "limit");
    if (l < 1 || l > MAX_BUNDLE_LIMIT) {
      throw new AuditException(
          Code.INVALID_REQUEST, "limit must be between 1 and " + MAX_BUNDLE_LIMIT);
    }
    return (int) l;
  }

  /** Longest cosignature line a witness may post (anyone may post: it is read only this far). */
  static final int MAX_COSIGNATURE_BYTES = 2_000;

  /** A witness posts one cosignature line for the checkpoint of {@code size}. */
  @PostMapping(value = "/audit/v1/cosignatures", consumes = MediaType.TEXT_PLAIN_VALUE)
  public ResponseEntity<Void> cosign(
      @RequestParam("size") String size, HttpServletRequest request) {
    String line = new String(body(request, MAX_COSIGNATURE_BYTES), StandardCharsets.UTF_8);
    cosignatures.add(decimal(size, "size"), line.strip());
    return ResponseEntity.noContent().build();
  }

  private static byte[] body(HttpServletRequest request) {
    return body(request, MAX_BODY);
  }

  /** Reads at most {@code max} bytes: a larger body is refused before it is buffered. */
  private static byte[] body(HttpServletRequest request, int max) {
    if (request.getContentLengthLong() > max) {
      throw new BodyTooLarge(max);
    }
    try {
      byte[] b = request.getInputStream().readNBytes(max + 1);
      if (b.length > max) {
        throw new BodyTooLarge(max);
      }
      return b;
    } catch (java.io.IOException e) {
      throw new AuditException(Code.INVALID_REQUEST, "request body could not be read");
    }
  }

  /** A request body over the limit: 413. */
  private static final class BodyTooLarge extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int max;

    BodyTooLarge(int max) {
      super(null, null, false, false);
      this.max = max;
    }
  }

  @ExceptionHandler(BodyTooLarge.class)
  public ResponseEntity<ProblemDetail> tooLarge(BodyTooLarge e) {
    ProblemDetail pd =
        ProblemDetail.forStatusAndDetail(
            HttpStatus.CONTENT_TOO_LARGE, "request body exceeds " + e.max + " bytes");
    pd.setTitle(Code.INVALID_EVENT.name());
    pd.setProperty("code", Code.INVALID_EVENT.name());
    return ResponseEntity.status(HttpStatus.CONTENT_TOO_LARGE)
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(pd);
  }

  private Map<String, Object> object(byte[] body) {
    if (body.length > MAX_BODY) {
      throw new AuditException(Code.INVALID_EVENT, "request body exceeds " + MAX_BODY + " bytes");
    }
    Object o;
    try {
      o = json.readValue(body, Object.class);
    } catch (JacksonException e) {
      throw new AuditException(
          Code.INVALID_REQUEST, "the body is not one JSON object (a member twice is refused)");
    }
    if (!(o instanceof Map)) {
      throw new AuditException(Code.INVALID_REQUEST, "a JSON object is expected");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) o;
    return m;
  }

  private AuditEvent parseEvent(byte[] body) {
    Map<String, Object> m = object(body);
    EventType type;
    try {
      type = EventType.valueOf(string(m, "type"));
    } catch (IllegalArgumentException e) {
      throw new AuditException(Code.INVALID_EVENT, "unknown event type");
    }
    Map<String, String> attrs = new LinkedHashMap<>();
    Object a = m.getOrDefault("attributes", Map.of());
    if (!(a instanceof Map<?, ?> am)) {
      throw new AuditException(Code.INVALID_EVENT, "attributes must be an object of strings");
    }
    for (var e : am.entrySet()) {
      if (!(e.getValue() instanceof String v)) {
        throw new AuditException(Code.INVALID_EVENT, "attribute values must be strings");
      }
      attrs.put((String) e.getKey(), v);
    }
    Instant time = optString(m, "time").map(AuditController::instant).orElse(Instant.now());
    AuditEvent event =
        new AuditEvent(
            type,
            string(m, "actor"),
            string(m, "subject"),
            time,
            attrs,
            optString(m, "objectDigest"));
    event.canonicalBytes();
    return event;
  }

  private static String string(Map<String, Object> m, String name) {
    if (!(m.get(name) instanceof String s)) {
      throw new AuditException(Code.INVALID_EVENT, name + " must be a string");
    }
    return s;
  }

  private static Optional<String> optString(Map<String, Object> m, String name) {
    Object v = m.get(name);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof String s)) {
      throw new AuditException(Code.INVALID_REQUEST, name + " must be a string");
    }
    return Optional.of(s);
  }

  private static Long number(Object v, String name) {
    if (v instanceof Integer i) {
      return i.longValue();
    }
    if (v instanceof Long l) {
      return l;
    }
    throw new AuditException(
        Code.INVALID_REQUEST, name + " must be an integer between 0 and 2^63-1");
  }

  private static Instant instant(String s) {
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      throw new AuditException(
          Code.INVALID_REQUEST, "times are RFC 3339 UTC, e.g. 2026-11-27T10:00:00Z");
    }
  }

  private static List<String> b64s(List<byte[]> hashes) {
    return hashes.stream().map(AuditController::b64).toList();
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  /** RFC 9457 problem details with a stable {@code code}. */
  @ExceptionHandler(AuditException.class)
  public ResponseEntity<ProblemDetail> problem(AuditException e) {
    HttpStatus status =
        switch (e.code()) {
          case INVALID_EVENT, INVALID_REQUEST -> HttpStatus.BAD_REQUEST;
          case NOT_FOUND -> HttpStatus.NOT_FOUND;
          case UNAUTHORIZED -> HttpStatus.UNAUTHORIZED;
          case FORBIDDEN -> HttpStatus.FORBIDDEN;
          case UNAVAILABLE -> HttpStatus.SERVICE_UNAVAILABLE;
        };
    ProblemDetail pd = ProblemDetail.forStatusAndDetail(status, e.getMessage());
    pd.setTitle(e.code().name());
    pd.setProperty("code", e.code().name());
    return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(pd);
  }

  @ExceptionHandler({
    MissingServletRequestParameterException.class,
    MethodArgumentTypeMismatchException.class,
    org.springframework.http.converter.HttpMessageNotReadableException.class
  })
  public ResponseEntity<ProblemDetail> badParameter(Exception e) {
    return problem(new AuditException(Code.INVALID_REQUEST, "missing or malformed parameter"));
  }
}
