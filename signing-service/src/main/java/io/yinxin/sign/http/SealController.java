package io.yinxin.sign.http;

import io.yinxin.audit.AuditLog;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import io.yinxin.sign.SignMetrics;
import io.yinxin.sign.pades.PadesSealer;
import io.yinxin.sign.pades.SealOptions;
import io.yinxin.sign.registry.Seal;
import io.yinxin.sign.registry.SealRegistry;
import io.yinxin.sign.registry.SealSummary;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The seal API under {@code /sign/v1}: the registry ({@code seal:admin}) and sealing ({@code
 * seal:use} and a grant of that seal to the caller). A sealed document is returned only after its
 * {@code DOCUMENT_SEALED} audit event is durable.
 */
@RestController
@RequestMapping("/sign/v1")
public class SealController {
  /** 42 mm, the diameter of an enterprise's official seal, in points. */
  static final float SEAL_SIZE_PT = 42 / 25.4f * 72;

  private final SealRegistry registry;
  private final Callers callers;
  private final PadesSealer sealer;
  private final AuditLog audit;
  private final SealOptions.Level defaultLevel;
  private final long maxDocumentBytes;
  private final int maxBatchDocuments;
  private final Clock clock;
  private final DocumentGate gate;

  public SealController(
      SealRegistry registry,
      Callers callers,
      PadesSealer sealer,
      AuditLog audit,
      SealOptions.Level defaultLevel,
      long maxDocumentBytes,
      int maxBatchDocuments,
      Clock clock,
      DocumentGate gate) {
    this.gate = gate;
    this.maxBatchDocuments = maxBatchDocuments;
    this.registry = registry;
    this.callers = callers;
    this.sealer = sealer;
    this.audit = audit;
    this.defaultLevel = defaultLevel;
    this.maxDocumentBytes = maxDocumentBytes;
    this.clock = clock;
  }

  /** A new seal: a key URI, its certificate chain (PEM), optionally a PNG and first grantees. */
  public record NewSealRequest(
      String name,
      String subLine,
      String key,
      String certificateChain,
      String image,
      List<String> grantees) {}

  /**
   * Largest body of a new seal: the image's base64 ({@link SealRegistry#MAX_IMAGE_BYTES}), a chain
   * of up to 60 KB of PEM, and room for the names and grantees.
   */
  static final int MAX_NEW_SEAL_BODY =
      4 * ((SealRegistry.MAX_IMAGE_BYTES + 2) / 3) + 60 * 1024 + 16 * 1024;

  /**
   * The body is read only after the token is checked, at most {@link #MAX_NEW_SEAL_BODY} bytes far,
   * and strictly ({@link JsonBodies}).
   */
  @PostMapping(path = "/seals", consumes = "application/json")
  public ResponseEntity<Map<String, Object>> create(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      HttpServletRequest request) {
    String actor = admin(authorization);
    NewSealRequest body = JsonBodies.read(request, MAX_NEW_SEAL_BODY, NewSealRequest.class);
    Optional<byte[]> image = Optional.empty();
    if (body.image() != null && !body.image().isEmpty()) {
      byte[] png;
      try {
        png = Base64.getDecoder().decode(body.image());
      } catch (IllegalArgumentException e) {
        throw new SignException(Code.INVALID_REQUEST, "image must be base64 (a PNG)");
      }
      // One spelling per image: the decoder ignores bits after the last whole byte.
      if (!Base64.getEncoder().encodeToString(png).equals(body.image())) {
        throw new SignException(Code.INVALID_REQUEST, "image must be base64 (a PNG)");
      }
      image = Optional.of(png);
    }
    Seal seal =
        registry.create(
            actor,
            new SealRegistry.NewSeal(
                body.name(),
                body.subLine(),
                body.key(),
                body.certificateChain(),
                image,
                body.grantees()));
    return ResponseEntity.status(HttpStatus.CREATED).body(view(seal.id()));
  }

  /**
   * The seals, oldest first, a page at a time: {@code limit} 1 to 1000 (default 100), {@code after}
   * the last id of the previous page, {@code grantee} only the seals that caller may use; each
   * parameter in one spelling only. The answer's {@code next} is the {@code after} of the next page
   * when this one is full, null when it is not.
   */
  @GetMapping("/seals")
  public Map<String, Object> list(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @RequestParam(value = "after", required = false) String after,
      @RequestParam(value = "grantee", required = false) String grantee,
      @RequestParam(value = "limit", required = false) String limit) {
    admin(authorization);
    // One spelling per number (no sign, no leading zero), so nothing overflows on the way.
    if (limit != null
        && !(limit.matches("[1-9][0-9]{0,3}")
            && Integer.parseInt(limit) <= SealRegistry.MAX_PAGE)) {
      throw new SignException(Code.INVALID_REQUEST, "limit: 1 to " + SealRegistry.MAX_PAGE);
    }
    int n = limit == null ? DEFAULT_PAGE : Integer.parseInt(limit);
    List<SealSummary> page =
        registry.page(Optional.ofNullable(after), Optional.ofNullable(grantee), n);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("items", page.stream().map(SealController::view).toList());
    out.put("next", page.size() == n ? page.get(n - 1).id() : null);
    return out;
  }

  /** Seals per page when the request names no {@code limit}. */
  static final int DEFAULT_PAGE = 100;

  @GetMapping("/seals/{id}")
  public Map<String, Object> get(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id) {
    admin(authorization);
    return view(id);
  }

  @PostMapping("/seals/{id}/disable")
  public Map<String, Object> disable(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id) {
    registry.setActive(admin(authorization), id, false);
    return view(id);
  }

  @PostMapping("/seals/{id}/enable")
  public Map<String, Object> enable(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id) {
    registry.setActive(admin(authorization), id, true);
    return view(id);
  }

  @PutMapping("/seals/{id}/grants/{grantee}")
  public Map<String, Object> grant(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id,
      @PathVariable String grantee) {
    registry.grant(admin(authorization), id, grantee);
    return view(id);
  }

  @DeleteMapping("/seals/{id}/grants/{grantee}")
  public Map<String, Object> withdraw(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id,
      @PathVariable String grantee) {
    registry.withdraw(admin(authorization), id, grantee);
    return view(id);
  }

  /**
   * How to seal, from the query string: {@code level}; placement {@code field} (an existing empty
   * signature field), {@code anchor} (+ {@code size}), or {@code page} + {@code x}, {@code y} (+
   * {@code width}, {@code height}, {@code unit=pt|mm}), or {@code invisible=true}, by default a 42
   * mm seal at the bottom right of the last page; {@code reason}, {@code location}, {@code
   * certify=1|2|3}.
   */
  public record SealParams(
      String level,
      Integer page,
      Float x,
      Float y,
      Float width,
      Float height,
      String unit,
      String anchor,
      Float size,
      String field,
      Boolean invisible,
      String reason,
      String location,
      Integer certify) {}

  /** Seals the PDF in the body ({@code application/pdf}). */
  @PostMapping(path = "/seals/{id}/sign", consumes = "application/pdf")
  public void sign(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id,
      @org.springframework.web.bind.annotation.ModelAttribute SealParams params,
      HttpServletRequest request,
      HttpServletResponse response)
      throws IOException {
    sealOne(
        authorization,
        id,
        params,
        request.getInputStream(),
        request.getContentLengthLong(),
        response);
  }

  /**
   * Seals the PDF in the {@code file} part of a {@code multipart/form-data} body. The caller's
   * token is checked before the body is parsed (multipart resolution is lazy): a caller without one
   * never makes the node read, let alone spool, an upload.
   */
  @PostMapping(path = "/seals/{id}/sign", consumes = "multipart/form-data")
  public void signMultipart(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id,
      HttpServletRequest request,
      HttpServletResponse response)
      throws IOException {
    callers.authenticate("seal:use", authorization);
    // Only now the parts (and the form fields among the parameters) are read.
    oneSpellingEach(request);
    var binder = new org.springframework.web.bind.ServletRequestDataBinder(null, "params");
    binder.setTargetType(org.springframework.core.ResolvableType.forClass(SealParams.class));
    binder.construct(request);
    if (binder.getBindingResult().hasErrors() || binder.getTarget() == null) {
      throw new SignException(Code.INVALID_REQUEST, "malformed seal parameters");
    }
    jakarta.servlet.http.Part file;
    try {
      file = request.getPart("file");
    } catch (jakarta.servlet.ServletException | IllegalStateException e) {
      throw new SignException(Code.INVALID_REQUEST, "not a readable multipart body");
    }
    if (file == null) {
      throw new SignException(Code.INVALID_REQUEST, "no file part");
    }
    try (InputStream body = file.getInputStream()) {
      sealOne(authorization, id, (SealParams) binder.getTarget(), body, file.getSize(), response);
    }
  }

  /**
   * The sealing options of a multipart request, bound here after the token check rather than by
   * Spring MVC, held to the rules the node applies to every other handler's parameters: each given
   * once (not the first of two taken, or two texts joined with a comma), a whole number without
   * sign or leading zero, a decimal without exponent, {@code NaN} or {@code Infinity}, a yes-or-no
   * {@code true} or {@code false}.
   */
  private static void oneSpellingEach(HttpServletRequest request) {
    for (java.lang.reflect.RecordComponent c : SealParams.class.getRecordComponents()) {
      String[] values = request.getParameterValues(c.getName());
      if (values == null) {
        continue;
      }
      String v = values[0];
      boolean ok =
          values.length == 1
              && (c.getType() == Integer.class
                  ? v.matches("-?(0|[1-9][0-9]{0,8})")
                  : c.getType() == Float.class
                      ? v.matches("-?(0|[1-9][0-9]{0,15})(\\.[0-9]{1,15})?") && !v.matches("-[0.]+")
                      : c.getType() != Boolean.class || v.equals("true") || v.equals("false"));
      if (!ok) {
        throw new SignException(
            Code.INVALID_REQUEST, "missing or malformed parameter " + c.getName());
      }
    }
  }

  /**
   * Seals every PDF of a zip ({@code application/zip}) with the same parameters and streams back a
   * zip: each document sealed under its own name, or {@code <name>.error.json} (problem details)
   * where it was refused. Entries are read one at a time, each up to {@code max-document-bytes}, at
   * most {@code max-batch-documents} of them and ten times {@code max-document-bytes} in all (a zip
   * bomb stops there); names are reduced to their last path segment.
   */
  @PostMapping(path = "/seals/{id}/sign-batch", consumes = "application/zip")
  public void signBatch(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id,
      @org.springframework.web.bind.annotation.ModelAttribute SealParams params,
      HttpServletRequest request,
      HttpServletResponse response)
      throws IOException {
    Callers.Caller who = callers.authenticate("seal:use", authorization);
    String caller = who.actor();
    Seal seal = usableSeal(id, who);
    Path in = Files.createTempFile("yinxin-batch-in-", ".pdf");
    Path out = in.resolveSibling(in.getFileName() + ".sealed");
    try (java.util.zip.ZipInputStream zin =
        new java.util.zip.ZipInputStream(request.getInputStream())) {
      // Before the answer starts: a body that is not a zip, or one holding nothing, is a 400, not
      // an empty zip answered 200.
      java.util.zip.ZipEntry first;
      try {
        first = zin.getNextEntry();
      } catch (java.util.zip.ZipException e) {
        first = null;
      }
      if (first == null) {
        throw new SignException(Code.INVALID_REQUEST, "the body is not a zip holding documents");
      }
      batch(zin, first, response, caller, seal, params, in, out);
    } finally {
      Files.deleteIfExists(in);
      Files.deleteIfExists(out);
    }
  }

  private void batch(
      java.util.zip.ZipInputStream zin,
      java.util.zip.ZipEntry first,
      HttpServletResponse response,
      String caller,
      Seal seal,
      SealParams params,
      Path in,
      Path out)
      throws IOException {
    java.util.Set<String> names = new java.util.HashSet<>();
    int count = 0;
    long total = 0;
    try (java.util.zip.ZipOutputStream zout =
        new java.util.zip.ZipOutputStream(response.getOutputStream())) {
      response.setStatus(200);
      response.setContentType("application/zip");
      response.setHeader("Content-Disposition", "attachment; filename=\"sealed.zip\"");
      for (java.util.zip.ZipEntry e = first; e != null; e = zin.getNextEntry()) {
        if (e.isDirectory()) {
          continue;
        }
        if (++count > maxBatchDocuments) {
          writeError(
              zout,
              names,
              "batch",
              new SignException(
                  Code.TOO_LARGE, "a batch holds at most " + maxBatchDocuments + " documents"));
          break;
        }
        String name = entryName(e.getName(), count);
        try {
          total += readBody(zin, -1, in);
          if (total > 10 * maxDocumentBytes) {
            writeError(
                zout,
                names,
                name,
                new SignException(
                    Code.TOO_LARGE, "a batch holds at most " + 10 * maxDocumentBytes + " bytes"));
            break;
          }
          sealFile(caller, seal, params, in, out);
          zout.putNextEntry(new java.util.zip.ZipEntry(unique(names, name)));
          Files.copy(out, zout);
          zout.closeEntry();
        } catch (SignException ex) {
          writeError(zout, names, name, ex);
        } finally {
          Files.deleteIfExists(in);
          Files.deleteIfExists(out);
        }
      }
    }
  }

  private static String entryName(String raw, int index) {
    String n = raw.replace('\\', '/');
    n = n.substring(n.lastIndexOf('/') + 1);
    n = n.replaceAll("[^\\p{L}\\p{N}._ -]", "_");
    if (n.isBlank() || n.startsWith(".")) {
      n = "document-" + index + ".pdf";
    }
    return n.length() > 120 ? n.substring(n.length() - 120) : n;
  }

  private static String unique(java.util.Set<String> names, String name) {
    String n = name;
    for (int i = 2; !names.add(n); i++) {
      n = i + "-" + name;
    }
    return n;
  }

  private void writeError(
      java.util.zip.ZipOutputStream zout, java.util.Set<String> names, String name, SignException e)
      throws IOException {
    zout.putNextEntry(new java.util.zip.ZipEntry(unique(names, name + ".error.json")));
    String json =
        "{\"status\":"
            + e.code().httpStatus()
            + ",\"code\":\""
            + e.code().name()
            + "\",\"detail\":"
            + jsonString(e.getMessage())
            + "}";
    zout.write(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    zout.closeEntry();
  }

  private static String jsonString(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  /** The actor of an admin call ({@code seal:admin}). */
  private String admin(String authorization) {
    return callers.authenticate("seal:admin", authorization).actor();
  }

  /** Seals one document read from {@code body} and answers it as application/pdf. */
  private void sealOne(
      String authorization,
      String id,
      SealParams params,
      InputStream body,
      long declaredLength,
      HttpServletResponse response)
      throws IOException {
    Callers.Caller who = callers.authenticate("seal:use", authorization);
    Seal seal = usableSeal(id, who);
    Path in = Files.createTempFile("yinxin-seal-in-", ".pdf");
    Path out = in.resolveSibling(in.getFileName() + ".sealed");
    try {
      readBody(body, declaredLength, in);
      sealFile(who.actor(), seal, params, in, out);
      sendPdf(response, out);
    } finally {
      Files.deleteIfExists(in);
      Files.deleteIfExists(out);
    }
  }

  private Seal usableSeal(String id, Callers.Caller caller) {
    Seal seal =
        registry.find(id).orElseThrow(() -> new SignException(Code.NOT_FOUND, "no such seal"));
    if (caller.names().stream().noneMatch(n -> registry.granted(id, n))) {
      throw new SignException(Code.FORBIDDEN, "this seal is not granted to the caller");
    }
    if (!seal.active()) {
      throw new SignException(Code.SEAL_DISABLED, "the seal is disabled");
    }
    return seal;
  }

  /**
   * Seals {@code in} into {@code out} and records it; returns once the event is durable. Waits for
   * a permit of the seal {@link DocumentGate} first (a batch takes one per document), within the
   * caller's share of them.
   */
  private void sealFile(String caller, Seal seal, SealParams p, Path in, Path out)
      throws IOException {
    try (DocumentGate.Permit permit = gate.enterAsCaller(caller)) {
      sealAdmitted(caller, seal, p, in, out);
    }
  }

  private void sealAdmitted(String caller, Seal seal, SealParams p, Path in, Path out) {
    String unit = p.unit() == null ? "pt" : p.unit();
    float scale =
        switch (unit) {
          case "pt" -> 1f;
          case "mm" -> 72 / 25.4f;
          default -> throw new SignException(Code.INVALID_REQUEST, "unit must be pt or mm");
        };
    SealOptions.Level lvl = p.level() == null ? defaultLevel : SealOptions.Level.parse(p.level());
    int certify = p.certify() == null ? 0 : p.certify();
    SealOptions.Placement placement =
        p.field() != null
            ? new SealOptions.Placement.Field(p.field())
            : placement(
                in,
                Boolean.TRUE.equals(p.invisible()),
                p.anchor(),
                p.size(),
                p.page(),
                p.x(),
                p.y(),
                p.width(),
                p.height(),
                scale);
    SealOptions options =
        new SealOptions(
            lvl,
            placement,
            Optional.ofNullable(p.reason()),
            Optional.ofNullable(p.location()),
            certify,
            clock.instant());
    long start = System.nanoTime();
    try {
      sealer.sealAndRecord(in, out, seal.identity(), options, caller, audit);
    } catch (SignException e) {
      SignMetrics.sealed(lvl.label(), e.code().name().toLowerCase(java.util.Locale.ROOT), 0);
      throw e;
    } catch (RuntimeException e) {
      SignMetrics.sealed(lvl.label(), "error", 0);
      throw e;
    }
    SignMetrics.sealed(lvl.label(), "ok", System.nanoTime() - start);
  }

  private static void sendPdf(HttpServletResponse response, Path out) throws IOException {
    response.setStatus(200);
    response.setContentType("application/pdf");
    response.setContentLengthLong(Files.size(out));
    response.setHeader("Content-Disposition", "attachment; filename=\"sealed.pdf\"");
    try (InputStream sealed = Files.newInputStream(out);
        OutputStream body = response.getOutputStream()) {
      sealed.transferTo(body);
    }
  }

  private SealOptions.Placement placement(
      Path pdf,
      boolean invisible,
      String anchor,
      Float size,
      Integer page,
      Float x,
      Float y,
      Float width,
      Float height,
      float scale) {
    if (invisible) {
      return new SealOptions.Placement.Invisible();
    }
    if (anchor != null) {
      return new SealOptions.Placement.Anchor(anchor, size == null ? SEAL_SIZE_PT : size * scale);
    }
    if (page != null) {
      if (x == null || y == null) {
        throw new SignException(Code.INVALID_PLACEMENT, "page needs x and y");
      }
      float w = width == null ? SEAL_SIZE_PT : width * scale;
      float h = height == null ? w : height * scale;
      return new SealOptions.Placement.Box(page, x * scale, y * scale, w, h);
    }
    return PadesSealer.bottomRightOfLastPage(pdf, SEAL_SIZE_PT);
  }

  /** Copies a body to {@code file}, refusing it once it is longer than the limit. */
  private long readBody(InputStream body, long declared, Path file) throws IOException {
    if (declared > maxDocumentBytes) {
      throw new SignException(Code.TOO_LARGE, "the document is larger than " + maxDocumentBytes);
    }
    try (OutputStream to = Files.newOutputStream(file)) {
      byte[] buf = new byte[64 * 1024];
      long total = 0;
      for (int n; (n = body.read(buf)) > 0; ) {
        total += n;
        if (total > maxDocumentBytes) {
          throw new SignException(
              Code.TOO_LARGE, "the document is larger than " + maxDocumentBytes);
        }
        to.write(buf, 0, n);
      }
      if (total == 0) {
        throw new SignException(Code.NOT_PDF, "the body is empty");
      }
      return total;
    }
  }

  private Map<String, Object> view(String id) {
    return view(
        registry.summary(id).orElseThrow(() -> new SignException(Code.NOT_FOUND, "no such seal")));
  }

  private static Map<String, Object> view(SealSummary s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id());
    m.put("name", s.name());
    m.put("subLine", s.subLine());
    m.put("status", s.active() ? "active" : "disabled");
    m.put("key", s.key().toString());
    m.put("algorithm", s.algorithm().name());
    m.put("certificateSubject", s.chain().get(0).getSubject().toString());
    m.put("certificateSerial", s.chain().get(0).getSerialNumber().toString(16));
    m.put("certificateIssuer", s.chain().get(0).getIssuer().toString());
    m.put("appearance", s.uploadedImage() ? "image" : "drawn");
    m.put("grantees", s.grantees());
    m.put("createdAt", s.createdAt().toString());
    return m;
  }
}
