package io.yinxin.sign.http;

import io.yinxin.audit.access.AddressLimits;
import io.yinxin.sign.SignException;
import io.yinxin.sign.tsa.TimeStampAuthority;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * {@code POST /tsa}: RFC 3161 over HTTP (§3.4): {@code application/timestamp-query} in, {@code
 * application/timestamp-reply} out. A bad request is answered in the protocol (a rejection), with
 * HTTP 200 as RFC 3161 clients expect; only a body over the limit is refused, with 413 problem+json
 * ({@code TOO_LARGE}) before it is read further, another content type with 415, and a client
 * address over its {@link AddressLimits} (every token is a signature anyone may ask for) with 429
 * ({@code RATE_LIMITED}) and {@code Retry-After}.
 *
 * <p>A plain servlet, like the CA's OCSP responder, not a Spring MVC handler: a time stamp is a few
 * hundred microseconds of work, and handler mapping, content negotiation and the response entity
 * machinery cost about as much again for nothing this endpoint uses.
 */
public final class TsaServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  static final String QUERY = "application/timestamp-query";
  static final String REPLY = "application/timestamp-reply";

  private final transient java.util.function.Supplier<TimeStampAuthority> source;
  private final int maxRequestBytes;
  private final transient AddressLimits limits;
  private transient volatile TimeStampAuthority tsa;

  /**
   * @param source the authority, looked up on the first request: the web server starts before the
   *     application's beans and must not pull the key backend forward
   * @param limits requests per client address and per node
   */
  public TsaServlet(
      java.util.function.Supplier<TimeStampAuthority> source,
      int maxRequestBytes,
      AddressLimits limits) {
    this.source = source;
    this.maxRequestBytes = maxRequestBytes;
    this.limits = limits;
  }

  private TimeStampAuthority tsa() {
    TimeStampAuthority t = tsa;
    if (t == null) {
      t = source.get();
      tsa = t;
    }
    return t;
  }

  @Override
  protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    if (!isQuery(req.getContentType())) {
      problem(
          resp,
          415,
          "UNSUPPORTED_MEDIA_TYPE",
          "a time-stamp request is sent as " + QUERY + " (RFC 3161 §3.4)");
      return;
    }
    byte[] query;
    try {
      query = BoundedBody.read(req.getInputStream(), req.getContentLengthLong(), maxRequestBytes);
    } catch (SignException e) {
      problem(resp, e.code().httpStatus(), e.code().name(), e.getMessage());
      return;
    }
    long wait = limits.take(req.getRemoteAddr());
    if (wait > 0) {
      resp.setHeader("Retry-After", Long.toString(wait));
      problem(
          resp,
          429,
          "RATE_LIMITED",
          "too many time-stamp requests from your address or to this node; retry later");
      return;
    }
    byte[] reply = tsa().respond(query);
    resp.setStatus(200);
    resp.setContentType(REPLY);
    resp.setHeader("Cache-Control", "no-store");
    resp.setContentLength(reply.length);
    resp.getOutputStream().write(reply);
  }

  /** {@code application/timestamp-query}, in any case, with or without parameters. */
  static boolean isQuery(String contentType) {
    if (contentType == null) {
      return false;
    }
    int semicolon = contentType.indexOf(';');
    String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip();
    return type.toLowerCase(Locale.ROOT).equals(QUERY);
  }

  /** RFC 9457 problem+json, as the service's other endpoints answer ({@link SignProblems}). */
  private static void problem(HttpServletResponse resp, int status, String code, String detail)
      throws IOException {
    byte[] body =
        ("{\"type\":\"about:blank\",\"title\":\""
                + code
                + "\",\"status\":"
                + status
                + ",\"detail\":\""
                + detail.replace("\\", "\\\\").replace("\"", "\\\"")
                + "\",\"instance\":\"/tsa\",\"code\":\""
                + code
                + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    resp.setStatus(status);
    resp.setContentType("application/problem+json");
    resp.setContentLength(body.length);
    resp.getOutputStream().write(body);
  }
}
