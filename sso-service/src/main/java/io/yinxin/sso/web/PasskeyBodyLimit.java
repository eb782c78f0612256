package io.yinxin.sso.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The JSON bodies of the passkey ceremonies ({@code POST /login/webauthn} and {@code /webauthn/**},
 * which Spring Security's WebAuthn filters read whole into Jackson) are at most {@link #MAX_BODY}
 * bytes long, as declared; beyond that 413, and without a declared length 411, both before anything
 * is read or parsed. Anyone with a session may post to the sign-in one: a 15 MB body was parsed
 * before its 401 (the node's memory grew by 100 MB). An assertion is well under 2 KB, a
 * registration with an attestation chain a few KB.
 */
public final class PasskeyBodyLimit extends OncePerRequestFilter {
  public static final int MAX_BODY = 64 * 1024;

  @Override
  protected boolean shouldNotFilter(HttpServletRequest request) {
    String path = request.getServletPath();
    return !"POST".equals(request.getMethod())
        || !(path.equals("/login/webauthn") || path.startsWith("/webauthn/"));
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    long declared = request.getContentLengthLong();
    // A declared length bounds what the server delivers, so nothing is read here: the body, JSON
    // or a form whose fields Tomcat parses itself, stays the request's own. A ceremony's script
    // sends a string, always with its length; a body without one (chunked) is refused.
    if (declared < 0) {
      refuse(response, HttpServletResponse.SC_LENGTH_REQUIRED, "a Content-Length is required");
      return;
    }
    if (declared > MAX_BODY) {
      refuse(
          response,
          HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE,
          "the body is larger than " + MAX_BODY + " bytes");
      return;
    }
    chain.doFilter(request, response);
  }

  private static void refuse(HttpServletResponse response, int status, String why)
      throws IOException {
    response.setStatus(status);
    response.setHeader("Cache-Control", "no-store");
    response.setContentType("application/json;charset=UTF-8");
    response
        .getOutputStream()
        .write(("{\"error\":\"" + why + "\"}").getBytes(StandardCharsets.UTF_8));
  }
}
