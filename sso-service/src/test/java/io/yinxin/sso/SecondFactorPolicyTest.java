package io.yinxin.sso;

import static io.yinxin.sso.Browser.location;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jwt.SignedJWT;
import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.account.SecondFactorLogin.Policy;
import io.yinxin.sso.client.DemoClient;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.security.authentication.TestingAuthenticationToken;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code yinxin.sso.second-factor-required=everyone}: an account without a second factor that signs
 * in with its password reaches nothing but the enrolment page until it has set up an authenticator
 * app; then its sign-in is complete (both factors in the ID token) and goes on to the portal.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SecondFactorPolicyTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String REDIRECT = "http://127.0.0.1:8000/callback";
  private static final String PASSWORD = "policy says two factors";

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-second-factor-policy");
    r.add("yinxin.sso.second-factor-required", () -> "everyone");
  }

  @LocalServerPort int port;
  @Autowired Accounts accounts;
  @Autowired DemoClient demo;

  @Test
  void aPasswordSignInWithoutASecondFactorSetsOneUpBeforeAnythingElse() throws Exception {
    accounts.create("must.enrol", PASSWORD, "Must enrol");
    Browser b = new Browser("http://127.0.0.1:" + port);
    String verifier = Browser.verifier();
    String authorize =
        "/oauth2/authorize?response_type=code&client_id="
            + demo.clientId()
            + "&scope=openid&state=p&code_challenge_method=S256&code_challenge="
            + Browser.challenge(verifier)
            + "&redirect_uri="
            + URLEncoder.encode(REDIRECT, StandardCharsets.UTF_8);
    assertThat(location(b.get(authorize))).endsWith("/login");
    assertThat(location(b.signIn("must.enrol", PASSWORD))).endsWith("/account/totp");

    // Until it is set up: the account page, CAS and the portal's request lead to the enrolment
    // page (the last one asked for is where it goes afterwards), a change elsewhere is refused.
    for (String page : new String[] {"/account", "/cas/login?service=x", authorize}) {
      assertThat(location(b.get(page))).as(page).endsWith("/account/totp");
    }
    HttpResponse<String> enrol = b.get("/account/totp");
    assertThat(enrol.statusCode()).isEqualTo(200);
    assertThat(enrol.body()).contains("您的账户须开启两步验证");
    String csrf = Browser.group("name=\"_csrf\" value=\"([^\"]+)\"", enrol.body());
    assertThat(b.post("/account/sessions", Map.of("_csrf", csrf), null).statusCode())
        .isEqualTo(403);

    // Set up (oathtool as the app): the recovery codes, and on to where the sign-in was going.
    HttpResponse<String> done = SecondFactorTest.setUpApp(b).page();
    assertThat(done.statusCode()).isEqualTo(200);
    assertThat(done.body()).contains("recovery-codes");
    String next =
        Browser.group("id=\"continue\" href=\"([^\"]+)\"", done.body()).replace("&amp;", "&");
    assertThat(next).contains("/oauth2/authorize");
    String code = Browser.query(location(b.get(next))).get("code");
    HttpResponse<String> tokens =
        b.tokensFor(
            code, REDIRECT, verifier, Browser.basic(demo.clientId(), demo.secret().orElseThrow()));
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    var id =
        SignedJWT.parse(JSON.readTree(tokens.body()).path("id_token").asString()).getJWTClaimsSet();
    assertThat(id.getStringListClaim("amr")).containsExactly("pwd", "otp", "mfa");
    assertThat(b.get("/account").statusCode()).isEqualTo(200);

    // From now on the password leads to the second step, as for anyone with an app.
    assertThat(location(new Browser("http://127.0.0.1:" + port).signIn("must.enrol", PASSWORD)))
        .endsWith("/login/otp");
  }

  @Test
  void thePolicyNamesWhomItAsks() {
    var admin = new TestingAuthenticationToken("admin", null, Accounts.ADMINISTRATOR, "ROLE_USER");
    var person = new TestingAuthenticationToken("someone", null, "ROLE_USER");
    assertThat(Policy.parse("none").applies(admin)).isFalse();
    assertThat(Policy.parse("Administrators").applies(admin)).isTrue();
    assertThat(Policy.parse("administrators").applies(person)).isFalse();
    assertThat(Policy.parse(" everyone ").applies(person)).isTrue();
    assertThatThrownBy(() -> Policy.parse("all")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Policy.parse("")).isInstanceOf(IllegalArgumentException.class);
  }
}
