package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.yinxin.sso.account.DemoUser;
import io.yinxin.sso.client.DemoClient;
import io.yinxin.sso.http.SsoAdmins;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.json.JsonMapper;

/**
 * JWT-secured authorization requests (RFC 9101): a request object signed with the client's own key
 * carries the whole request (the outer query can neither add nor override a parameter), and the
 * forgeries are refused with invalid_request_object and no redirect — another key, {@code alg:
 * none}, another issuer or audience, expired, or a client with no keys registered. By reference
 * (§5.2) the object is fetched only from a URL the client registered, within a time and size limit,
 * without redirects, and matching its fragment's hash when it has one.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RequestObjectTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String REDIRECT = "http://127.0.0.1:8000/callback";
  static ECKey key;
  static HttpServer jwks;

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-jar");
  }

  @BeforeAll
  static void clientKeys() throws Exception {
    key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    jwks = TestCredentials.jwksServer(new JWKSet(key.toPublicJWK()).toString());
  }

  @AfterAll
  static void stop() {
    jwks.stop(0);
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;
  @Autowired DemoUser user;
  @Autowired DemoClient demo;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private HttpResponse<String> register(Map<String, Object> metadata) throws Exception {
    return Browser.json(
        base(),
        "POST",
        "/sso/v1/clients",
        admins.devToken().orElseThrow(),
        JSON.writeValueAsString(metadata));
  }

  private JWTClaimsSet.Builder request(String challenge) {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer("jar-portal")
        .audience(base())
        .expirationTime(Date.from(now.plusSeconds(120)))
        .issueTime(Date.from(now))
        .claim("client_id", "jar-portal")
        .claim("response_type", "code")
        .claim("redirect_uri", REDIRECT)
        .claim("scope", "openid")
        .claim("state", "from-the-object")
        .claim("code_challenge", challenge)
        .claim("code_challenge_method", "S256");
  }

  private static String sign(JWTClaimsSet claims, ECKey with) throws Exception {
    SignedJWT jwt =
        new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").build(), claims);
    jwt.sign(new ECDSASigner(with));
    return jwt.serialize();
  }

  @Test
  void aSignedRequestObjectIsTheWholeRequestAndForgeriesAreRefused() throws Exception {
    HttpResponse<String> reg =
        register(
            Map.of(
                "client_id", "jar-portal",
                "client_name", "JAR portal",
                "redirect_uris", List.of(REDIRECT),
                "scope", "openid",
                "require_consent", false,
                "token_endpoint_auth_method", "private_key_jwt",
                "jwks_uri", "http://127.0.0.1:" + jwks.getAddress().getPort() + "/jwks",
                "token_endpoint_auth_signing_alg", "ES256"));
    assertThat(reg.statusCode()).as(reg.body()).isEqualTo(201);

    Browser b = new Browser(base());
    String csrf = Browser.group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", b.get("/login").body());
    b.post(
        "/login",
        Map.of(
            "username", user.username(), "password", user.password().orElseThrow(), "_csrf", csrf),
        null);
    String challenge = Browser.challenge(Browser.verifier());

    // The outer state (and any other outer parameter) is not the request's.
    String good = sign(request(challenge).build(), key);
    String location =
        Browser.location(
            b.get(
                "/oauth2/authorize?client_id=jar-portal&state=outer&request="
                    + URLEncoder.encode(good, StandardCharsets.UTF_8)));
    assertThat(location).startsWith(REDIRECT + "?");
    assertThat(Browser.query(location))
        .containsEntry("state", "from-the-object")
        .containsKey("code");

    ECKey other = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    Map<String, String> forgeries =
        Map.of(
            "another key", sign(request(challenge).build(), other),
            "alg none", new PlainJWT(request(challenge).build()).serialize(),
            "another issuer", sign(edit(request(challenge), c -> c.issuer("evil")), key),
            "another audience",
                sign(edit(request(challenge), c -> c.audience("https://evil.example")), key),
            "expired",
                sign(
                    edit(
                        request(challenge),
                        c -> c.expirationTime(Date.from(Instant.now().minusSeconds(300)))),
                    key),
            "another client_id",
                sign(edit(request(challenge), c -> c.claim("client_id", "x")), key));
    for (Map.Entry<String, String> f : forgeries.entrySet()) {
      HttpResponse<String> r =
          b.get(
              "/oauth2/authorize?client_id=jar-portal&request="
                  + URLEncoder.encode(f.getValue(), StandardCharsets.UTF_8));
      assertThat(r.statusCode()).as(f.getKey()).isEqualTo(400);
      assertThat(r.headers().firstValue("Location")).as(f.getKey()).isEmpty();
      assertThat(r.body()).as(f.getKey()).contains("invalid_request_object");
    }
    // A client that registered no keys cannot send request objects.
    HttpResponse<String> keyless =
        b.get(
            "/oauth2/authorize?client_id="
                + demo.clientId()
                + "&request="
                + URLEncoder.encode(good, StandardCharsets.UTF_8));
    assertThat(keyless.statusCode()).isEqualTo(400);
    // Discovery says so.
    assertThat(b.get("/.well-known/openid-configuration").body())
        .contains("\"request_parameter_supported\":true");
  }

  private static JWTClaimsSet edit(JWTClaimsSet.Builder b, UnaryOperator<JWTClaimsSet.Builder> f) {
    return f.apply(b).build();
  }

  /** Serves request objects to the provider, counting what it asks for. */
  private static final class ObjectServer implements AutoCloseable {
    final HttpServer server;
    final java.util.concurrent.atomic.AtomicInteger requests =
        new java.util.concurrent.atomic.AtomicInteger();
    volatile byte[] good = new byte[0];

    ObjectServer() throws Exception {
      server = HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
      server.createContext(
          "/ro/",
          ex -> {
            requests.incrementAndGet();
            String path = ex.getRequestURI().getPath();
            try {
              switch (path) {
                case "/ro/good" -> send(ex, 200, good);
                case "/ro/big" -> send(ex, 200, new byte[70 * 1024]);
                case "/ro/missing" -> send(ex, 404, new byte[0]);
                case "/ro/redirect" -> {
                  ex.getResponseHeaders().add("Location", "/ro/good");
                  send(ex, 302, new byte[0]);
                }
                case "/ro/slow" -> {
                  // Headers at once, then the body a byte a second.
                  ex.sendResponseHeaders(200, good.length);
                  for (byte b : good) {
                    ex.getResponseBody().write(b);
                    ex.getResponseBody().flush();
                    Thread.sleep(1000);
                  }
                }
                default -> send(ex, 404, new byte[0]);
              }
            } catch (Exception e) {
              // the provider hung up
            } finally {
              ex.close();
            }
          });
      server.start();
    }

    private static void send(com.sun.net.httpserver.HttpExchange ex, int status, byte[] body)
        throws java.io.IOException {
      ex.getResponseHeaders().add("Content-Type", "application/oauth-authz-req+jwt");
      ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        ex.getResponseBody().write(body);
      }
    }

    String url(String path) {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/ro/" + path;
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  @Test
  void aRequestObjectByReferenceComesOnlyFromARegisteredUrlWithinLimits() throws Exception {
    try (ObjectServer objects = new ObjectServer()) {
      List<String> registered =
          List.of("good", "big", "missing", "redirect", "slow").stream().map(objects::url).toList();
      HttpResponse<String> reg =
          register(
              Map.of(
                  "client_id", "jar-ref",
                  "client_name", "JAR by reference",
                  "redirect_uris", List.of(REDIRECT),
                  "scope", "openid",
                  "require_consent", false,
                  "token_endpoint_auth_method", "private_key_jwt",
                  "jwks_uri", "http://127.0.0.1:" + jwks.getAddress().getPort() + "/jwks",
                  "token_endpoint_auth_signing_alg", "ES256",
                  "request_uris", registered));
      assertThat(reg.statusCode()).as(reg.body()).isEqualTo(201);
      assertThat(reg.body()).contains(objects.url("slow"));

      String challenge = Browser.challenge(Browser.verifier());
      String good =
          sign(
              edit(request(challenge), c -> c.issuer("jar-ref").claim("client_id", "jar-ref")),
              key);
      objects.good = good.getBytes(StandardCharsets.US_ASCII);
      Browser b = new Browser(base());
      b.signIn(user.username(), user.password().orElseThrow());
      java.util.function.Function<String, HttpResponse<String>> authorize =
          uri -> {
            try {
              return b.get(
                  "/oauth2/authorize?client_id=jar-ref&request_uri="
                      + URLEncoder.encode(uri, StandardCharsets.UTF_8));
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          };

      String location = Browser.location(authorize.apply(objects.url("good")));
      assertThat(location).startsWith(REDIRECT + "?");
      assertThat(Browser.query(location))
          .containsEntry("state", "from-the-object")
          .containsKey("code");
      String hash =
          java.util.Base64.getUrlEncoder()
              .withoutPadding()
              .encodeToString(
                  java.security.MessageDigest.getInstance("SHA-256").digest(objects.good));
      assertThat(Browser.location(authorize.apply(objects.url("good") + "#" + hash)))
          .startsWith(REDIRECT + "?");

      int asked = objects.requests.get();
      // Not registered (another query, another host): never fetched.
      for (String unregistered :
          List.of(
              objects.url("good") + "?x=1", "http://127.0.0.2:1/ro/good", "file:///etc/hosts")) {
        HttpResponse<String> r = authorize.apply(unregistered);
        assertThat(r.statusCode()).as(unregistered).isEqualTo(400);
        assertThat(r.body()).as(unregistered).contains("invalid_request_uri");
      }
      assertThat(objects.requests.get()).isEqualTo(asked);
      // Registered but not a good answer: too large, 404, a redirect, a wrong hash, too slow.
      for (String bad :
          List.of(
              objects.url("big"),
              objects.url("missing"),
              objects.url("redirect"),
              objects.url("good") + "#" + hash.substring(1) + "A")) {
        HttpResponse<String> r = authorize.apply(bad);
        assertThat(r.statusCode()).as(bad).isEqualTo(400);
        assertThat(r.headers().firstValue("Location")).as(bad).isEmpty();
      }
      long start = System.nanoTime();
      assertThat(authorize.apply(objects.url("slow")).statusCode()).isEqualTo(400);
      assertThat((System.nanoTime() - start) / 1e9).as("seconds for a slow server").isLessThan(8);
      // Both ways at once is not a request.
      assertThat(
              b.get(
                      "/oauth2/authorize?client_id=jar-ref&request="
                          + URLEncoder.encode(good, StandardCharsets.UTF_8)
                          + "&request_uri="
                          + URLEncoder.encode(objects.url("good"), StandardCharsets.UTF_8))
                  .statusCode())
          .isEqualTo(400);
      // Registration: only http(s), and only with the keys that sign the objects.
      for (Map<String, Object> m :
          List.<Map<String, Object>>of(
              Map.of(
                  "client_name", "No keys",
                  "redirect_uris", List.of(REDIRECT),
                  "request_uris", List.of(objects.url("good"))),
              Map.of(
                  "client_name",
                  "FTP",
                  "redirect_uris",
                  List.of(REDIRECT),
                  "token_endpoint_auth_method",
                  "private_key_jwt",
                  "jwks_uri",
                  "http://127.0.0.1:" + jwks.getAddress().getPort() + "/jwks",
                  "request_uris",
                  List.of("ftp://127.0.0.1/ro/good")))) {
        assertThat(register(m).statusCode()).as(m.get("client_name").toString()).isEqualTo(400);
      }
      assertThat(b.get("/.well-known/openid-configuration").body())
          .contains("\"request_uri_parameter_supported\":true");
    }
  }
}
