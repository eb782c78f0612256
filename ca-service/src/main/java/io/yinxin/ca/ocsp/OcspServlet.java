package io.yinxin.ca.ocsp;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

/**
 * The OCSP responder over HTTP (RFC 6960 Appendix A): {@code POST /ca/ocsp} with a DER OCSPRequest
 * body, {@code GET /ca/ocsp/<url-encoded base64 of the request>}. A plain servlet, not a Spring MVC
 * handler: this is the hottest path of the CA and needs nothing MVC offers. Always answers 200 with
 * an {@code application/ocsp-response}; errors are OCSP response statuses.
 */
public final class OcspServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  static final int MAX_REQUEST = 64 * 1024;
  static final String PREFIX = "/ca/ocsp/";

  private final transient java.util.function.Supplier<OcspResponder> source;
  private transient volatile OcspResponder responder;

  /**
   * @param source the responder, looked up on the first request: the web server starts before the
   *     application's beans, and must not pull the CA (database, keys) forward
   */
  public OcspServlet(java.util.function.Supplier<OcspResponder> source) {
    this.source = source;
  }

  private OcspResponder responder() {
    OcspResponder r = responder;
    if (r == null) {
      r = source.get();
      responder = r;
    }
    return r;
  }

  @Override
  protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    // An oversized request is answered like any malformed one (an empty body does not parse).
    byte[] body = io.yinxin.ca.Bodies.read(req, MAX_REQUEST).orElse(new byte[0]);
    answer(resp, responder().respond(body, req.getRemoteAddr()));
  }

  @Override
  protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    String uri = req.getRequestURI();
    int at = uri.indexOf(PREFIX);
    String encoded = at < 0 ? "" : uri.substring(at + PREFIX.length());
    if (encoded.isEmpty() || encoded.length() > MAX_REQUEST) {
      answer(resp, responder().respond(new byte[0]));
      return;
    }
    // One canonical key per request, however it was percent-encoded or padded: otherwise one
    // valid request spelled a million ways would fill the front cache.
    String canonical;
    try {
      canonical = percentDecode(encoded);
    } catch (IllegalArgumentException e) {
      answer(resp, responder().respond(new byte[0]));
      return;
    }
    int end = canonical.length();
    while (end > 0 && canonical.charAt(end - 1) == '=') {
      end--;
    }
    String key = canonical.substring(0, end);
    OcspResponder.Answer a =
        responder().respondEncoded(key, () -> decode(key), req.getRemoteAddr());
    a.cacheable().ifPresent(c -> cachingHeaders(resp, c, Instant.now()));
    answer(resp, a.der());
  }

  /** Longest an HTTP cache may keep a GET answer: a revocation reaches cached clients this late. */
  static final Duration MAX_AGE = Duration.ofHours(1);

  /**
   * RFC 5019 §6.2: max-age (never past nextUpdate, and at most {@link #MAX_AGE} so that a
   * revocation is not hidden behind caches for the answer's whole validity), Expires to match,
   * Last-Modified = thisUpdate, and the answer's hash as ETag.
   */
  static void cachingHeaders(HttpServletResponse resp, OcspResponder.HttpCaching c, Instant now) {
    long untilNext = Math.max(0, Duration.between(now, c.nextUpdate()).toSeconds());
    long maxAge = Math.min(untilNext, MAX_AGE.toSeconds());
    resp.setHeader(
        "Cache-Control", "max-age=" + maxAge + ", public, no-transform, must-revalidate");
    resp.setHeader("Expires", http(now.plusSeconds(maxAge)));
    resp.setHeader("Last-Modified", http(c.thisUpdate()));
    resp.setHeader("ETag", c.etag());
  }

  private static String http(Instant t) {
    return java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
        t.atOffset(java.time.ZoneOffset.UTC));
  }

  private static byte[] decode(String base64) {
    try {
      return Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      return new byte[0];
    }
  }

  private static void answer(HttpServletResponse resp, byte[] der) throws IOException {
    resp.setStatus(200);
    resp.setContentType("application/ocsp-response");
    resp.setContentLength(der.length);
    resp.getOutputStream().write(der);
  }

  /** Percent-decoding only ({@code +} stays {@code +}: it is a base64 character here). */
  static String percentDecode(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length()) {
          throw new IllegalArgumentException("truncated escape");
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw new IllegalArgumentException("bad escape");
        }
        out.write(hi * 16 + lo);
        i += 2;
      } else {
        out.write(c);
      }
    }
    return out.toString(StandardCharsets.ISO_8859_1);
  }
}
