package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.SignedJWT;
import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.client.DemoClient;
import io.yinxin.sso.http.SsoAdmins;
import io.yinxin.sso.realname.RealNames;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.json.JsonMapper;

/**
 * Identity brokering with real OpenID Connect on both sides: a second Yinxin node on another port
 * is another agency's provider. A person picks it on this node's sign-in page, signs in and
 * consents there (to release their ID number to this agency), comes back, is linked to the account
 * here that holds the same ID number, and the portal's ID token names the upstream ({@code idp},
 * {@code amr} fed). A person the upstream vouches for who has no account here is not signed in.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class FederationTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String ID = "11010519491231002X";
  private static final String STRANGER_ID = "110101199003074477";
  private static final String REDIRECT = "http://127.0.0.1:8000/callback";
  private static ConfigurableApplicationContext upstream;
  private static String upstreamBase;

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    OpenIdProviderTest.h2Node(r, "sso-federation-local");
    Path data = Files.createTempDirectory("yinxin-upstream-");
    upstream =
        OpenIdProviderTest.startNode(
            data.toString(),
            "jdbc:h2:mem:sso-upstream-"
                + UUID.randomUUID()
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1",
            "sa");
    int port = OpenIdProviderTest.port(upstream);
    upstreamBase = "http://127.0.0.1:" + port;
    // The upstream's people: one who has an account here too, one who has not.
    Accounts accounts = upstream.getBean(Accounts.class);
    RealNames names = upstream.getBean(RealNames.class);
    accounts.create("zhang.upstream", "upstream password 1", "张三");
    names.set("op", "zhang.upstream", "张三", Optional.of(ID), Optional.empty(), "certificate");
    accounts.create("li.upstream", "upstream password 2", "李四");
    names.set("op", "li.upstream", "李四", Optional.of(STRANGER_ID), Optional.empty(), "certificate");
    // This agency registered at the upstream: its operator allows it the ID number.
    HttpResponse<String> reg =
        Browser.json(
            upstreamBase,
            "POST",
            "/sso/v1/clients",
            upstream.getBean(SsoAdmins.class).devToken().orElseThrow(),
            JSON.writeValueAsString(
                Map.of(
                    "client_id", "local-agency",
                    "client_name", "本机关 Local agency",
                    // A loopback redirect URI: any port (RFC 8252 §7.3), so the one this node
                    // gets at start.
                    "redirect_uris",
                        List.of("http://127.0.0.1:9/login/oauth2/code/upstream-agency"),
                    "scope", "openid id_number")));
    assertThat(reg.statusCode()).as(reg.body()).isEqualTo(201);
    String secret = JSON.readTree(reg.body()).path("client_secret").asString();
    upstreamSecret = secret;
    r.add("yinxin.sso.upstreams[0].id", () -> "upstream-agency");
    r.add("yinxin.sso.upstreams[0].name", () -> "上游机关 Upstream agency");
    r.add("yinxin.sso.upstreams[0].issuer", () -> upstreamBase);
    r.add("yinxin.sso.upstreams[0].client-id", () -> "local-agency");
    r.add("yinxin.sso.upstreams[0].secret", () -> secret);
  }

  /** This node's client secret at the upstream. */
  private static String upstreamSecret;

  @AfterAll
  static void stopUpstream() {
    if (upstream != null) {
      upstream.close();
    }
  }

  @LocalServerPort int port;
  @Autowired Accounts accounts;
  @Autowired RealNames realNames;
  @Autowired DemoClient demo;
  @Autowired DataSource dataSource;
  @Autowired io.yinxin.audit.store.LogStore auditStore;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  /** From this node's sign-in page through the upstream and back; the response back here. */
  private HttpResponse<String> throughUpstream(Browser b, String username, String password)
      throws Exception {
    HttpResponse<String> login = b.get("/login");
    assertThat(login.body()).contains("/oauth2/authorization/upstream-agency", "上游机关");
    String toUpstream = Browser.location(b.get("/oauth2/authorization/upstream-agency"));
    assertThat(toUpstream).startsWith(upstreamBase + "/oauth2/authorize?");
    assertThat(Browser.location(b.get(toUpstream))).endsWith("/login");
    String csrf =
        Browser.group(
            "name=\"_csrf\"[^>]*value=\"([^\"]+)\"", b.get(upstreamBase + "/login").body());
    String back =
        Browser.location(
            b.post(
                upstreamBase + "/login",
                Map.of("username", username, "password", password, "_csrf", csrf),
                null));
    String consentUrl =
        Browser.location(b.get(back.startsWith("http") ? back : upstreamBase + back));
    if (consentUrl.startsWith(base() + "/login/oauth2/code/upstream-agency?")) {
      return b.get(consentUrl); // consented before: the upstream answers at once
    }
    HttpResponse<String> consent =
        b.get(consentUrl.startsWith("http") ? consentUrl : upstreamBase + consentUrl);
    assertThat(consent.body()).contains("本机关", "您的完整身份证号");
    String state = Browser.group("name=\"state\"[^>]*value=\"([^\"]+)\"", consent.body());
    String callback =
        Browser.location(
            b.post(
                upstreamBase + "/oauth2/authorize",
                Map.of("client_id", "local-agency", "state", state, "scope", "id_number"),
                null));
    assertThat(callback).startsWith(base() + "/login/oauth2/code/upstream-agency?");
    return b.get(callback);
  }

  @Test
  void aPersonSignsInThroughTheUpstreamAndIsLinkedByTheirIdNumber() throws Exception {
    accounts.create("zhangsan", "local password 12", "张三");
    realNames.set("op", "zhangsan", "张三", Optional.of(ID), Optional.empty(), "self_declared");
    Browser b = new Browser(base(), true);
    String verifier = Browser.verifier();
    String authorize =
        "/oauth2/authorize?response_type=code&client_id="
            + demo.clientId()
            + "&scope=openid&state=s1&code_challenge_method=S256&code_challenge="
            + Browser.challenge(verifier)
            + "&redirect_uri="
            + URLEncoder.encode(REDIRECT, StandardCharsets.UTF_8);
    assertThat(Browser.location(b.get(authorize))).endsWith("/login");
    HttpResponse<String> back = throughUpstream(b, "zhang.upstream", "upstream password 1");
    String saved = Browser.location(back);
    assertThat(saved).contains("/oauth2/authorize");
    // Only openid asked: no consent page, the code comes at once.
    String redirected = Browser.location(b.get(saved));
    assertThat(redirected).startsWith(REDIRECT + "?");
    String code = Browser.query(redirected).get("code");
    HttpResponse<String> tokens =
        b.tokensFor(
            code, REDIRECT, verifier, Browser.basic(demo.clientId(), demo.secret().orElseThrow()));
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    var id =
        SignedJWT.parse(JSON.readTree(tokens.body()).path("id_token").asString()).getJWTClaimsSet();
    assertThat(id.getSubject()).isEqualTo("zhangsan");
    assertThat(id.getStringListClaim("amr")).containsExactly("fed");
    assertThat(id.getStringClaim("idp")).isEqualTo(upstreamBase);
    // The account page shows the link and the sign-in through the upstream.
    HttpResponse<String> account = b.get("/account");
    assertThat(account.body()).contains("关联身份", "上游机关", "按实名身份证号关联", ">fed<");
    assertThat(AuditEvents.count(dataSource, auditStore, "LOGIN_SUCCEEDED", "\"method\":\"fed\""))
        .isEqualTo(1);
    // The ID number the upstream vouched for is kept here sealed (sso.real_names) and nowhere
    // else: not in the session that remembers the sign-in, not in the stored authorization.
    SessionAttributes.holdNone(dataSource, ID);
    StoredAuthorizations.holdNone(dataSource, ID);
    // Nor are the upstream's tokens kept: the sign-in filter's store has nothing for this person
    // (Spring's default keeps them in the node's memory, per person, for good).
    assertThat(upstreamTokensKept("zhangsan")).isEmpty();

    // A portal that asks for two factors (acr_values): signing in again through the upstream
    // gives one factor still, so the portal is told that, not sent round again.
    String twoFactors =
        authorize.replace("state=s1", "state=s2") + "&acr_values=urn%3Ayinxin%3Aloa%3A2";
    assertThat(Browser.location(b.get(twoFactors))).endsWith("/login?stepup");
    // (Still signed in at the upstream, which answers at once.)
    String callback =
        Browser.location(b.get(Browser.location(b.get("/oauth2/authorization/upstream-agency"))));
    assertThat(callback).startsWith(base() + "/login/oauth2/code/upstream-agency?");
    String again = Browser.location(b.get(callback));
    assertThat(again).contains("/oauth2/authorize");
    assertThat(Browser.query(Browser.location(b.get(again))))
        .containsEntry("error", "unmet_authentication_requirements")
        .containsEntry("state", "s2")
        .doesNotContainKey("code");

    // Disabled by an operator, the account no longer signs in through the upstream either.
    assertThat(accounts.setEnabled("op", "zhangsan", false, outbox)).contains(true);
    Browser later = new Browser(base(), true);
    assertThat(Browser.location(throughUpstream(later, "zhang.upstream", "upstream password 1")))
        .endsWith("/login?error");
    assertThat(later.get("/login?error").body()).contains("通过该身份提供方登录失败。");
    assertThat(Browser.location(later.get("/account"))).endsWith("/login");
    accounts.setEnabled("op", "zhangsan", true, outbox);
  }

  @Autowired io.yinxin.audit.AuditOutbox outbox;

  @Autowired org.springframework.security.web.FilterChainProxy filterChains;

  /** What the OpenID Connect sign-in filter's store holds for one signed-in person. */
  private List<Object> upstreamTokensKept(String username) {
    List<Object> kept = new java.util.ArrayList<>();
    int filters = 0;
    for (var chain : filterChains.getFilterChains()) {
      for (var f : chain.getFilters()) {
        if (f
            instanceof
            org.springframework.security.oauth2.client.web.OAuth2LoginAuthenticationFilter login) {
          filters++;
          var store =
              (org.springframework.security.oauth2.client.web.OAuth2AuthorizedClientRepository)
                  org.springframework.test.util.ReflectionTestUtils.getField(
                      login, "authorizedClientRepository");
          var client =
              store.loadAuthorizedClient(
                  "upstream-agency",
                  new org.springframework.security.authentication.TestingAuthenticationToken(
                      username, null, "ROLE_USER"),
                  new org.springframework.mock.web.MockHttpServletRequest());
          if (client != null) {
            kept.add(client);
          }
        }
      }
    }
    assertThat(filters).as("the OpenID Connect sign-in filter").isEqualTo(1);
    return kept;
  }

  @Test
  void aPersonWithNoAccountHereIsNotSignedIn() throws Exception {
    Browser b = new Browser(base(), true);
    HttpResponse<String> back = throughUpstream(b, "li.upstream", "upstream password 2");
    assertThat(Browser.location(back)).endsWith("/login?error");
    // The failure the page reports is kept in the session (a database row), without the attempt
    // Spring Security attaches to it: that held this node's client registration, secret included.
    SessionAttributes.holdNone(dataSource, upstreamSecret);
    assertThat(b.get("/login?error").body()).contains("没有对应的实名账户");
    assertThat(Browser.location(b.get("/account"))).endsWith("/login");
  }
}
