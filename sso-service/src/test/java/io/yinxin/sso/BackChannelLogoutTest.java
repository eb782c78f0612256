package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.yinxin.sso.account.DemoUser;
import io.yinxin.sso.http.SsoAdmins;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Back-channel logout as a relying party sees it: after RP-initiated logout, the client's
 * registered {@code backchannel_logout_uri} (a server in this test) receives a logout token that
 * verifies against the published JWK set and carries what OpenID Back-Channel Logout 1.0 §2.4
 * requires (typ logout+jwt, iss, aud, iat, jti, sub, the event; no nonce); the person's tokens are
 * dead at once, and the sign-out is a LOGGED_OUT audit event.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class BackChannelLogoutTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String REDIRECT = "http://127.0.0.1:9/cb";

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    OpenIdProviderTest.h2Node(r, "sso-bcl");
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;
  @Autowired DemoUser user;
  @Autowired DataSource dataSource;
  @Autowired io.yinxin.audit.store.LogStore auditStore;

  @Test
  void signingOutSendsAVerifiableLogoutTokenAndEndsTheTokens() throws Exception {
    String base = "http://127.0.0.1:" + port;
    List<String> received = new CopyOnWriteArrayList<>();
    HttpServer rp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    rp.createContext(
        "/bc",
        ex -> {
          received.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    rp.start();
    try {
      HttpResponse<String> reg =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(base + "/sso/v1/clients"))
                      .header("Authorization", "Bearer " + admins.devToken().orElseThrow())
                      .header("Content-Type", "application/json")
                      .POST(
                          HttpRequest.BodyPublishers.ofString(
                              "{\"client_id\": \"portal-bc\", \"client_name\": \"Portal\","
                                  + " \"redirect_uris\": [\""
                                  + REDIRECT
                                  + "\"], \"scope\": \"openid\", \"require_consent\": false,"
                                  + " \"backchannel_logout_uri\": \"http://127.0.0.1:"
                                  + rp.getAddress().getPort()
                                  + "/bc\"}"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(reg.statusCode()).as(reg.body()).isEqualTo(201);
      String secret = JSON.readTree(reg.body()).path("client_secret").asString();
      String basic = Browser.basic("portal-bc", secret);

      Browser b = new Browser(base);
      String verifier = Browser.verifier();
      String authorize =
          "/oauth2/authorize?response_type=code&client_id=portal-bc&scope=openid&state=s"
              + "&code_challenge_method=S256&code_challenge="
              + Browser.challenge(verifier)
              + "&redirect_uri="
              + URLEncoder.encode(REDIRECT, StandardCharsets.UTF_8);
      b.get(authorize);
      String csrf = Browser.group("name=\"_csrf\" value=\"([^\"]+)\"", b.get("/login").body());
      String back =
          Browser.location(
              b.post(
                  "/login",
                  Map.of(
                      "username",
                      user.username(),
                      "password",
                      user.password().orElseThrow(),
                      "_csrf",
                      csrf),
                  null));
      String code = Browser.query(Browser.location(b.get(back))).get("code");
      JsonNode tokens =
          JSON.readTree(
              b.post(
                      "/oauth2/token",
                      Map.of(
                          "grant_type", "authorization_code",
                          "code", code,
                          "redirect_uri", REDIRECT,
                          "code_verifier", verifier),
                      basic)
                  .body());
      String accessToken = tokens.path("access_token").asString();

      HttpResponse<String> out =
          b.get(
              "/connect/logout?id_token_hint="
                  + URLEncoder.encode(tokens.path("id_token").asString(), StandardCharsets.UTF_8));
      assertThat(out.statusCode()).as(out.body()).isEqualTo(302);

      assertThat(received).hasSize(1);
      String form = received.get(0);
      assertThat(form).startsWith("logout_token=");
      SignedJWT lt = SignedJWT.parse(URLDecoder.decode(form.substring(13), StandardCharsets.UTF_8));
      JWKSet jwks = JWKSet.parse(b.get("/oauth2/jwks").body());
      assertThat(
              lt.verify(new RSASSAVerifier((RSAKey) jwks.getKeyByKeyId(lt.getHeader().getKeyID()))))
          .isTrue();
      assertThat(lt.getHeader().getType().toString()).isEqualTo("logout+jwt");
      JWTClaimsSet c = lt.getJWTClaimsSet();
      assertThat(c.getIssuer()).isEqualTo(base);
      assertThat(c.getAudience()).containsExactly("portal-bc");
      assertThat(c.getSubject()).isEqualTo(user.username());
      assertThat(c.getIssueTime()).isNotNull();
      assertThat(c.getJWTID()).isNotBlank();
      assertThat(c.getClaim("nonce")).isNull();
      assertThat(c.getJSONObjectClaim("events"))
          .containsKey("http://schemas.openid.net/event/backchannel-logout");

      HttpResponse<String> introspection =
          b.post("/oauth2/introspect", Map.of("token", accessToken), basic);
      assertThat(JSON.readTree(introspection.body()).path("active").asBoolean()).isFalse();
      assertThat(AuditEvents.count(dataSource, auditStore, "LOGGED_OUT", "portal-bc")).isEqualTo(1);
    } finally {
      rp.stop(0);
    }
  }
}
