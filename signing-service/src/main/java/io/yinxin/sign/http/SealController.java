package io.yinxin.sign.http;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import io.yinxin.sign.pades.PadesSealer;
import io.yinxin.sign.pades.SealOptions;
import io.yinxin.sign.registry.Seal;
import io.yinxin.sign.registry.SealRegistry;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
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
import org.springframework.web.bind.annotation.RequestBody;
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
  private final SignCallers callers;
  private final PadesSealer sealer;
  private final AuditLog audit;
  private final SealOptions.Level defaultLevel;
  private final long maxDocumentBytes;
  private final Clock clock;

  public SealController(
      SealRegistry registry,
      SignCallers callers,
      PadesSealer sealer,
      AuditLog audit,
      SealOptions.Level defaultLevel,
      long maxDocumentBytes,
      Clock clock) {
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

  @PostMapping(path = "/seals", consumes = "application/json")
  public ResponseEntity<Map<String, Object>> create(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @RequestBody NewSealRequest body) {
    String actor = callers.require("seal:admin", authorization);
    Optional<byte[]> image = Optional.empty();
    if (body.image() != null && !body.image().isEmpty()) {
      try {
        image = Optional.of(Base64.getDecoder().decode(body.image()));
      } catch (IllegalArgumentException e) {
        throw new SignException(Code.INVALID_REQUEST, "image must be base64 (a PNG)");
      }
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
    return ResponseEntity.status(HttpStatus.CREATED).body(view(seal));
  }

  @GetMapping("/seals")
  public List<Map<String, Object>> list(
      @RequestHeader(value = "Authorization", required = false) String authorization) {
    callers.require("seal:admin", authorization);
    return registry.list().stream().map(this::view).toList();
  }

  @GetMapping("/seals/{id}")
  public Map<String, Object> get(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id) {
    callers.require("seal:admin", authorization);
    return view(find(id));
  }

  @PostMapping("/seals/{id}/disable")
  public Map<String, Object> disable(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id) {
    registry.setActive(callers.require("seal:admin", authorization), id, false);
    return view(find(id));
  }

  @PostMapping("/seals/{id}/enable")
  public Map<String, Object> enable(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id) {
    registry.setActive(callers.require("seal:admin", authorization), id, true);
    return view(find(id));
  }

  @PutMapping("/seals/{id}/grants/{grantee}")
  public Map<String, Object> grant(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id,
      @PathVariable String grantee) {
    registry.grant(callers.require("seal:admin", authorization), id, grantee);
    return view(find(id));
  }

  @DeleteMapping("/seals/{id}/grants/{grantee}")
  public Map<String, Object> withdraw(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id,
      @PathVariable String grantee) {
    registry.withdraw(callers.require("seal:admin", authorization), id, grantee);
    return view(find(id));
  }

  /**
   * Seals the PDF in the body. Placement: {@code anchor} (+ {@code size}), or {@code page} + {@code
   * x}, {@code y} (+ {@code width}, {@code height}, {@code unit=pt|mm}), or {@code invisible=true};
   * by default a 42 mm seal at the bottom right of the last page.
   */
  @PostMapping(path = "/seals/{id}/sign", consumes = "application/pdf")
  public void sign(
      @RequestHeader(value = "Authorization", required = false) String authorization,
      @PathVariable String id,
      @RequestParam(required = false) String level,
      @RequestParam(required = false) Integer page,
      @RequestParam(required = false) Float x,
      @RequestParam(required = false) Float y,
      @RequestParam(required = false) Float width,
      @RequestParam(required = false) Float height,
      @RequestParam(defaultValue = "pt") String unit,
      @RequestParam(required = false) String anchor,
      @RequestParam(required = false) Float size,
      @RequestParam(defaultValue = "false") boolean invisible,
      @RequestParam(required = false) String reason,
      @RequestParam(required = false) String location,
      @RequestParam(defaultValue = "0") int certify,
      HttpServletRequest request,
      HttpServletResponse response)
      throws IOException {
    String caller = callers.require("seal:use", authorization);
    Seal seal =
        registry.find(id).orElseThrow(() -> new SignException(Code.NOT_FOUND, "no such seal"));
    if (!registry.granted(id, caller)) {
      throw new SignException(Code.FORBIDDEN, "this seal is not granted to the caller");
    }
    if (!seal.active()) {
      throw new SignException(Code.SEAL_DISABLED, "the seal is disabled");
    }
    float scale =
        switch (unit) {
          case "pt" -> 1f;
          case "mm" -> 72 / 25.4f;
          default -> throw new SignException(Code.INVALID_REQUEST, "unit must be pt or mm");
        };
    SealOptions.Level lvl = level == null ? defaultLevel : SealOptions.Level.parse(level);
    Path in = Files.createTempFile("yinxin-seal-in-", ".pdf");
    Path out = in.resolveSibling(in.getFileName() + ".sealed");
    try {
      readBody(request, in);
      SealOptions.Placement placement =
          placement(in, invisible, anchor, size, page, x, y, width, height, scale);
      SealOptions options =
          new SealOptions(
              lvl,
              placement,
              Optional.ofNullable(reason),
              Optional.ofNullable(location),
              certify,
              clock.instant());
      sealer.seal(in, out, seal.identity(), options);
      Map<String, String> attributes = new LinkedHashMap<>();
      attributes.put("documentSha256Before", sha256(in));
      attributes.put("documentSha256After", sha256(out));
      attributes.put("level", lvl.label());
      attributes.put("certify", Integer.toString(certify));
      attributes.put("signingTime", options.signingTime().toString());
      audit.append(AuditEvent.of(EventType.DOCUMENT_SEALED, caller, id, attributes));
      response.setStatus(200);
      response.setContentType("application/pdf");
      response.setContentLengthLong(Files.size(out));
      response.setHeader("Content-Disposition", "attachment; filename=\"sealed.pdf\"");
      try (InputStream sealed = Files.newInputStream(out);
          OutputStream body = response.getOutputStream()) {
        sealed.transferTo(body);
      }
    } finally {
      Files.deleteIfExists(in);
      Files.deleteIfExists(out);
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

  private void readBody(HttpServletRequest request, Path file) throws IOException {
    long declared = request.getContentLengthLong();
    if (declared > maxDocumentBytes) {
      throw new SignException(Code.TOO_LARGE, "the document is larger than " + maxDocumentBytes);
    }
    try (InputStream body = request.getInputStream();
        OutputStream to = Files.newOutputStream(file)) {
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
    }
  }

  private Seal find(String id) {
    return registry.find(id).orElseThrow(() -> new SignException(Code.NOT_FOUND, "no such seal"));
  }

  private Map<String, Object> view(Seal s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id());
    m.put("name", s.name());
    m.put("subLine", s.subLine());
    m.put("status", s.active() ? "active" : "disabled");
    m.put("key", s.key().toString());
    m.put("algorithm", s.algorithm().name());
    m.put("certificateSubject", s.chain().get(0).getSubject().toString());
    m.put("certificateSerial", s.chain().get(0).getSerialNumber().toString(16));
    m.put("appearance", s.image().isPresent() ? "image" : "drawn");
    m.put("grantees", registry.grantees(s.id()));
    m.put("createdAt", s.createdAt().toString());
    return m;
  }

  private static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[64 * 1024];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
