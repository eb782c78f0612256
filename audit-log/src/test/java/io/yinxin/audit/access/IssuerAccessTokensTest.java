package io.yinxin.audit.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Access tokens from an issuer are taken with their subject and scopes, and every forgery in {@link
 * TestIssuer#forgeries} is refused as "not accepted" — distinct from an issuer that cannot be
 * reached, which is a 503 for the caller, not a 401.
 */
class IssuerAccessTokensTest {
  static TestIssuer issuer;
  static IssuerAccessTokens tokens;

  @BeforeAll
  static void setUp() throws Exception {
    issuer = new TestIssuer();
    tokens = new IssuerAccessTokens(issuer.issuer(), Duration.ofSeconds(5));
  }

  @AfterAll
  static void tearDown() throws Exception {
    issuer.close();
  }

  @Test
  void aValidTokenGivesItsSubjectAndScopes() throws Exception {
    IssuerAccessTokens.Verified v =
        tokens.verify(issuer.sign(issuer.claims("ra-portal", "openid ca:read ca:issue").build()));
    assertThat(v.subject()).isEqualTo("ra-portal");
    assertThat(v.scopes()).containsExactlyInAnyOrder("openid", "ca:read", "ca:issue");
    // scp as a JSON array, as some issuers write it
    v =
        tokens.verify(
            issuer.sign(
                issuer
                    .claims("ra-portal", null)
                    .claim("scp", java.util.List.of("audit:read"))
                    .build()));
    assertThat(v.scopes()).containsExactly("audit:read");
  }

  @Test
  void forgeriesAreRefused() throws Exception {
    for (String forged : issuer.forgeries("ra-portal", "ca:issue")) {
      assertThatThrownBy(() -> tokens.verify(forged))
          .as(forged)
          .isInstanceOfSatisfying(
              IssuerAccessTokens.Rejected.class, e -> assertThat(e.issuerUnreachable()).isFalse());
    }
    String noSubject =
        issuer.sign(
            new com.nimbusds.jwt.JWTClaimsSet.Builder(issuer.claims("x", "ca:issue").build())
                .subject(null)
                .build());
    assertThatThrownBy(() -> tokens.verify(noSubject))
        .isInstanceOf(IssuerAccessTokens.Rejected.class);
  }

  @Test
  void jwtShapeIsTwoDots() {
    assertThat(IssuerAccessTokens.looksLikeJwt("a.b.c")).isTrue();
    assertThat(IssuerAccessTokens.looksLikeJwt("yx_0123abcd")).isFalse();
    assertThat(IssuerAccessTokens.looksLikeJwt(".b.c")).isFalse();
    assertThat(IssuerAccessTokens.looksLikeJwt("a.b")).isFalse();
  }

  @Test
  void anUnreachableIssuerIsUnavailableNotAnAuthenticationFailure() throws Exception {
    IssuerAccessTokens nowhere =
        new IssuerAccessTokens("http://127.0.0.1:9/none", Duration.ofSeconds(1));
    String token = issuer.sign(issuer.claims("ra-portal", "ca:read").build());
    assertThatThrownBy(() -> nowhere.verify(token))
        .isInstanceOfSatisfying(
            IssuerAccessTokens.Rejected.class, e -> assertThat(e.issuerUnreachable()).isTrue());
  }
}
