package io.yinxin.ca.acme;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RestController;

/**
 * ACME over HTTP (RFC 8555): {@code GET /acme/directory}, {@code HEAD|GET /acme/new-nonce}, and
 * every other resource by POST with a JWS body ({@code application/jose+json}). Every answer
 * carries a fresh {@code Replay-Nonce} and a link to the directory; errors are problem documents.
 */
@RestController
public class AcmeController {
  private static final Logger log = LoggerFactory.getLogger(AcmeController.class);
  static final int MAX_BODY = 128 * 1024;
  private static final MediaType PROBLEM = MediaType.parseMediaType("application/problem+json");

  private final AcmeService acme;

  public AcmeController(AcmeService acme) {
    this.acme = acme;
  }

  @GetMapping("/acme/directory")
  public ResponseEntity<byte[]> directory() {
    AcmeService.Reply r = acme.directory();
    return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(r.body());
  }

  @RequestMapping(
      value = "/acme/new-nonce",
      method = {RequestMethod.HEAD, RequestMethod.GET})
  public ResponseEntity<Void> newNonce(HttpServletRequest request) {
    return ResponseEntity.status(
            request.getMethod().equals("GET") ? HttpStatus.NO_CONTENT : HttpStatus.OK)
        .header("Replay-Nonce", acme.newNonce())
        .header(HttpHeaders.LINK, index())
        .cacheControl(CacheControl.noStore())
        .build();
  }

  @PostMapping("/acme/**")
  public ResponseEntity<byte[]> post(HttpServletRequest request) {
    String type = request.getContentType();
    if (type == null
        || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/jose+json")) {
      throw new AcmeProblem("malformed", 415, "Content-Type must be application/jose+json");
    }
    byte[] body;
    try {
      if (request.getContentLengthLong() > MAX_BODY) {
        throw AcmeProblem.malformed("request body too large");
      }
      body = request.getInputStream().readNBytes(MAX_BODY + 1);
    } catch (IOException e) {
      throw AcmeProblem.malformed("request body could not be read");
    }
    if (body.length > MAX_BODY) {
      throw AcmeProblem.malformed("request body too large");
    }
    String path = request.getRequestURI().substring(request.getContextPath().length());
    AcmeService.Reply r = acme.post(path.substring("/acme".length()), body);
    ResponseEntity.BodyBuilder b =
        ResponseEntity.status(r.status())
            .header("Replay-Nonce", acme.newNonce())
            .header(HttpHeaders.LINK, index())
            .cacheControl(CacheControl.noStore())
            .contentType(MediaType.parseMediaType(r.contentType()));
    r.location().ifPresent(l -> b.header(HttpHeaders.LOCATION, l));
    for (String link : r.links()) {
      b.header(HttpHeaders.LINK, link);
    }
    return b.body(r.body());
  }

  @ExceptionHandler(AcmeProblem.class)
  public ResponseEntity<byte[]> problem(AcmeProblem p) {
    return ResponseEntity.status(p.status())
        .header("Replay-Nonce", acme.newNonce())
        .header(HttpHeaders.LINK, index())
        .cacheControl(CacheControl.noStore())
        .contentType(PROBLEM)
        .body(AcmeService.problemBody(p));
  }

  @ExceptionHandler(RuntimeException.class)
  public ResponseEntity<byte[]> internal(RuntimeException e) {
    log.error("event=acme_failed reason={}", e.toString());
    return problem(new AcmeProblem("serverInternal", 500, "internal error"));
  }

  private String index() {
    return "<" + acme.base() + "/directory>;rel=\"index\"";
  }
}
