package io.yinxin.ca.acme;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.Locale;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RestController;

/**
 * ACME over HTTP (RFC 8555 §7.1): {@code GET /acme/directory}, {@code HEAD|GET /acme/new-nonce},
 * and one POST mapping per resource, each with a JWS body ({@code application/jose+json}) of at
 * most 128 KiB. Every answer carries a fresh {@code Replay-Nonce} and a link to the directory;
 * errors are problem documents, rate limits add {@code Retry-After}.
 */
@RestController
@RequestMapping("/acme")
public class AcmeController {
  private static final Logger log = LoggerFactory.getLogger(AcmeController.class);
  static final int MAX_BODY = 128 * 1024;
  private static final MediaType PROBLEM = MediaType.parseMediaType("application/problem+json");
  private static final String ID = "{id:[A-Za-z0-9_-]{1,64}}";

  private final AcmeService acme;

  public AcmeController(AcmeService acme) {
    this.acme = acme;
  }

  @GetMapping("/directory")
  public ResponseEntity<byte[]> directory() {
    AcmeService.Reply r = acme.directory();
    return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(r.body());
  }

  @RequestMapping(
      value = "/new-nonce",
      method = {RequestMethod.HEAD, RequestMethod.GET})
  public ResponseEntity<Void> newNonce(HttpServletRequest request) {
    String nonce = acme.newNonce(request.getRemoteAddr());
    return ResponseEntity.status(
            request.getMethod().equals("GET") ? HttpStatus.NO_CONTENT : HttpStatus.OK)
        .header("Replay-Nonce", nonce)
        .header(HttpHeaders.LINK, index())
        .cacheControl(CacheControl.noStore())
        .build();
  }

  /**
   * Renewal information (RFC 9773 §4): an unauthenticated GET. {@code Retry-After} is how often a
   * client should ask again; a shared cache may keep the answer for an hour.
   */
  @GetMapping("/renewal-info/{certId}")
  public ResponseEntity<byte[]> renewalInfo(
      HttpServletRequest request, @PathVariable String certId) {
    AcmeService.Reply r = acme.renewalInfo(certId, request.getRemoteAddr());
    return ResponseEntity.status(r.status())
        .header(HttpHeaders.RETRY_AFTER, Long.toString(AcmeRenewals.RETRY_AFTER_SECONDS))
        .cacheControl(
            CacheControl.maxAge(java.time.Duration.ofSeconds(AcmeRenewals.CACHE_SECONDS))
                .cachePublic())
        .contentType(MediaType.APPLICATION_JSON)
        .body(r.body());
  }

  @PostMapping("/new-account")
  public ResponseEntity<byte[]> newAccount(HttpServletRequest request) {
    return handle(request, acme::newAccount);
  }

  @PostMapping("/acct/" + ID)
  public ResponseEntity<byte[]> account(HttpServletRequest request, @PathVariable String id) {
    return handle(request, r -> acme.account(r, id));
  }

  @PostMapping("/key-change")
  public ResponseEntity<byte[]> keyChange(HttpServletRequest request) {
    return handle(request, acme::keyChange);
  }

  @PostMapping("/acct/" + ID + "/orders")
  public ResponseEntity<byte[]> accountOrders(HttpServletRequest request, @PathVariable String id) {
    return handle(request, r -> acme.accountOrders(r, id));
  }

  @PostMapping("/new-order")
  public ResponseEntity<byte[]> newOrder(HttpServletRequest request) {
    return handle(request, acme::newOrder);
  }

  @PostMapping("/order/" + ID)
  public ResponseEntity<byte[]> order(HttpServletRequest request, @PathVariable String id) {
    return handle(request, r -> acme.order(r, id));
  }

  @PostMapping("/order/" + ID + "/finalize")
  public ResponseEntity<byte[]> finalizeOrder(HttpServletRequest request, @PathVariable String id) {
    return handle(request, r -> acme.finalizeOrder(r, id));
  }

  @PostMapping("/authz/" + ID)
  public ResponseEntity<byte[]> authz(HttpServletRequest request, @PathVariable String id) {
    return handle(request, r -> acme.authz(r, id));
  }

  @PostMapping("/chall/" + ID)
  public ResponseEntity<byte[]> challenge(HttpServletRequest request, @PathVariable String id) {
    return handle(request, r -> acme.challenge(r, id));
  }

  @PostMapping("/cert/" + ID)
  public ResponseEntity<byte[]> certificate(HttpServletRequest request, @PathVariable String id) {
    return handle(request, r -> acme.certificate(r, id));
  }

  @PostMapping("/revoke-cert")
  public ResponseEntity<byte[]> revokeCert(HttpServletRequest request) {
    return handle(request, acme::revokeCert);
  }

  /** Any other POST: checked like the rest (so it uses its nonce), then 404. */
  @PostMapping("/**")
  public ResponseEntity<byte[]> unknown(HttpServletRequest request) {
    return handle(
        request,
        r -> {
          throw AcmeProblem.notFound("no such ACME resource");
        });
  }

  private ResponseEntity<byte[]> handle(
      HttpServletRequest request, Function<AcmeService.Request, AcmeService.Reply> resource) {
    String type = request.getContentType();
    if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/jose+json")) {
      throw new AcmeProblem("malformed", 415, "Content-Type must be application/jose+json");
    }
    String path = request.getRequestURI().substring(request.getContextPath().length());
    AcmeService.Request checked =
        acme.authenticate(path.substring("/acme".length()), body(request), request.getRemoteAddr());
    AcmeService.Reply r = resource.apply(checked);
    ResponseEntity.BodyBuilder b =
        ResponseEntity.status(r.status())
            .header("Replay-Nonce", acme.replayNonce())
            .header(HttpHeaders.LINK, index())
            .cacheControl(CacheControl.noStore())
            .contentType(MediaType.parseMediaType(r.contentType()));
    r.location().ifPresent(l -> b.header(HttpHeaders.LOCATION, l));
    for (String link : r.links()) {
      b.header(HttpHeaders.LINK, link);
    }
    return b.body(r.body());
  }

  /** The body, read only up to the limit. */
  private static byte[] body(HttpServletRequest request) {
    try {
      return io.yinxin.ca.Bodies.read(request, MAX_BODY)
          .orElseThrow(() -> AcmeProblem.malformed("request body too large"));
    } catch (IOException e) {
      throw AcmeProblem.malformed("request body could not be read");
    }
  }

  @ExceptionHandler(AcmeProblem.class)
  public ResponseEntity<byte[]> problem(AcmeProblem p) {
    ResponseEntity.BodyBuilder b =
        ResponseEntity.status(p.status())
            .header("Replay-Nonce", acme.replayNonce())
            .header(HttpHeaders.LINK, index())
            .cacheControl(CacheControl.noStore())
            .contentType(PROBLEM);
    if (p.retryAfterSeconds() > 0) {
      b.header(HttpHeaders.RETRY_AFTER, Long.toString(p.retryAfterSeconds()));
    }
    return b.body(AcmeService.problemBody(p));
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
