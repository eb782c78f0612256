package io.yinxin.sign.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.access.TestIssuer;
import io.yinxin.sign.SignException;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The seal API accepts an OAuth2 issuer's access tokens (a test issuer on 127.0.0.1 whose key is
 * generated when the test runs): a seal may be granted to the token's subject or its client, the
 * scope is required, and the forgeries an attacker tries are 401, an unreachable issuer 503.
 */
class JwtCallersTest {
  static TestIssuer issuer;
  static JwtCallers callers;

  @BeforeAll
  static void setUp() throws Exception {
    issuer = new TestIssuer();
    callers = new JwtCallers(issuer.issuer(), Duration.ofSeconds(5));
  }

  @AfterAll
  static void tearDown() throws Exception {
    issuer.close();
  }

  private static SignException.Code refused(String authorization, String scope) {
    try {
      callers.authenticate(scope, authorization);
      return null;
    } catch (SignException e) {
      return e.code();
    }
  }

  @Test
  void aValidTokenNamesItsSubjectAndClientAndNeedsTheScope() throws Exception {
    String token = "Bearer " + issuer.sign(issuer.claims("erp-system", "openid seal:use").build());
    Callers.Caller c = callers.authenticate("seal:use", token);
    assertThat(c.actor()).isEqualTo("erp-system");
    assertThat(c.names()).containsExactly("erp-system", "erp-system-client");
    assertThat(refused(token, "seal:admin")).isEqualTo(SignException.Code.FORBIDDEN);
  }

  @Test
  void forgedExpiredForeignAndUnsignedTokensAreRefused() throws Exception {
    for (String forged : issuer.forgeries("erp-system", "seal:use")) {
      assertThat(refused("Bearer " + forged, "seal:use"))
          .as(forged)
          .isEqualTo(SignException.Code.UNAUTHORIZED);
    }
    assertThat(refused("Basic ZXJwOnNlY3JldA==", "seal:use"))
        .isEqualTo(SignException.Code.UNAUTHORIZED);
    assertThat(refused(null, "seal:use")).isEqualTo(SignException.Code.UNAUTHORIZED);
  }

  @Test
  void anUnreachableIssuerIsUnavailableNotAnAuthenticationFailure() throws Exception {
    JwtCallers nowhere = new JwtCallers("http://127.0.0.1:9/none", Duration.ofSeconds(1));
    String token = "Bearer " + issuer.sign(issuer.claims("erp-system", "seal:use").build());
    assertThat(nowhereCode(nowhere, token)).isEqualTo(SignException.Code.UNAVAILABLE);
  }

  private static SignException.Code nowhereCode(JwtCallers nowhere, String token) {
    try {
      nowhere.authenticate("seal:use", token);
      return null;
    } catch (SignException e) {
      return e.code();
    }
  }
}
