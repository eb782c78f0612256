package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/** HSTS only on requests that came over TLS; a header a module sets itself wins. */
class SecurityHeadersTest {

  @Test
  void hstsIsSentOverTlsOnly() throws Exception {
    MockHttpServletRequest tls = new MockHttpServletRequest("GET", "/login");
    tls.setSecure(true);
    MockHttpServletResponse r = new MockHttpServletResponse();
    new SecurityHeaders.Writer().doFilter(tls, r, new MockFilterChain());
    assertThat(r.getHeader("Strict-Transport-Security"))
        .isEqualTo("max-age=31536000; includeSubDomains");

    MockHttpServletResponse plain = new MockHttpServletResponse();
    new SecurityHeaders.Writer()
        .doFilter(new MockHttpServletRequest("GET", "/login"), plain, new MockFilterChain());
    assertThat(plain.getHeader("Strict-Transport-Security")).isNull();
    assertThat(plain.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
  }

  @Test
  void aModuleThatSetsItsOwnPolicyKeepsIt() throws Exception {
    MockHttpServletResponse r = new MockHttpServletResponse();
    new SecurityHeaders.Writer()
        .doFilter(
            new MockHttpServletRequest("GET", "/logout"),
            r,
            new MockFilterChain(
                new jakarta.servlet.http.HttpServlet() {
                  @Override
                  protected void doGet(
                      jakarta.servlet.http.HttpServletRequest req,
                      jakarta.servlet.http.HttpServletResponse resp) {
                    resp.setHeader("Content-Security-Policy", "frame-ancestors https://rp.test");
                  }
                }));
    assertThat(r.getHeaders("Content-Security-Policy"))
        .containsExactly("frame-ancestors https://rp.test");
  }
}
