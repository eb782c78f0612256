package io.yinxin.sign.http;

import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import io.yinxin.sign.validate.PadesValidator;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /sign/v1/validate}: the signatures of a PDF validated offline against this node's
 * trust anchors (EU DSS, ETSI EN 319 102-1). No account needed, nothing stored: the document is
 * spooled to a temporary file, validated and deleted. JSON by default; {@code format=etsi} answers
 * the ETSI TS 119 102-2 XML validation report.
 */
@RestController
public class ValidationController {
  private final PadesValidator validator;
  private final long maxDocumentBytes;
  private final DocumentGate gate;

  /**
   * @param gate validations at once, and per client address; a request finding it full is answered
   *     503 {@code BUSY} once its body is in, one from an address that has its share in work 429
   *     {@code RATE_LIMITED} (no account is needed here, so no request waits: a waiting request
   *     would hold a request thread)
   */
  public ValidationController(PadesValidator validator, long maxDocumentBytes, DocumentGate gate) {
    this.validator = validator;
    this.maxDocumentBytes = maxDocumentBytes;
    this.gate = gate;
  }

  @PostMapping(path = "/sign/v1/validate", consumes = "application/pdf")
  public ResponseEntity<?> validate(
      @RequestParam(defaultValue = "json") String format, HttpServletRequest request)
      throws IOException {
    if (!format.equals("json") && !format.equals("etsi")) {
      throw new SignException(Code.INVALID_REQUEST, "format must be json or etsi");
    }
    Path pdf = Files.createTempFile("yinxin-validate-", ".pdf");
    try {
      spool(request, pdf);
      try (DocumentGate.Permit permit = gate.enter(request.getRemoteAddr())) {
        return validated(pdf, format);
      }
    } finally {
      Files.deleteIfExists(pdf);
    }
  }

  /** The reports: DSS's for every signature, Yinxin's own for SM2 ones. */
  private ResponseEntity<?> validated(Path pdf, String format) {
    var reports = validator.validate(pdf);
    if (format.equals("etsi")) {
      return ResponseEntity.ok()
          .contentType(MediaType.APPLICATION_XML)
          .body(reports.getXmlValidationReport());
    }
    List<Map<String, Object>> signatures = PadesValidator.summary(reports);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("signatures", signatures);
    // DSS does not know SM2/SM3: those signatures are judged by Yinxin's own checks.
    List<Map<String, Object>> sm2 =
        new io.yinxin.sign.validate.Sm2Verifier(validator.anchors()).verify(pdf, reports);
    if (!sm2.isEmpty()) {
      body.put("sm2Signatures", sm2);
    }
    body.put(
        "validationTime", reports.getSimpleReport().getValidationTime().toInstant().toString());
    return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(body);
  }

  private void spool(HttpServletRequest request, Path file) throws IOException {
    if (request.getContentLengthLong() > maxDocumentBytes) {
      throw new SignException(Code.TOO_LARGE, "the document is larger than " + maxDocumentBytes);
    }
    long total = 0;
    try (InputStream in = request.getInputStream();
        OutputStream out = Files.newOutputStream(file)) {
      byte[] buf = new byte[64 * 1024];
      for (int n; (n = in.read(buf)) > 0; ) {
        total += n;
        if (total > maxDocumentBytes) {
          throw new SignException(
              Code.TOO_LARGE, "the document is larger than " + maxDocumentBytes);
        }
        out.write(buf, 0, n);
      }
    }
    if (total == 0) {
      throw new SignException(Code.NOT_PDF, "the body is empty");
    }
  }
}
