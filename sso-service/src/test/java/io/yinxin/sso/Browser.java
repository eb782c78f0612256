package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the tests use as a browser: an HTTP client with its own cookies that does not follow
 * redirects (each one is checked), forms posted URL-encoded, and PKCE values computed here with the
 * JDK (not by the server's code).
 */
final class Browser {
  private final String base;
  private final CookieManager cookies = new CookieManager();
  private final HttpClient http;

  Browser(String base) {
    this(base, false);
  }

  /**
   * @param cookiesPerPort keep each port's cookies apart, as two hosts' would be (two test nodes on
   *     127.0.0.1 standing for two agencies' providers; cookies otherwise ignore the port)
   */
  Browser(String base, boolean cookiesPerPort) {
    this.base = base;
    java.net.CookieHandler handler = cookies;
    if (cookiesPerPort) {
      Map<Integer, CookieManager> jars = new java.util.concurrent.ConcurrentHashMap<>();
      handler =
          new java.net.CookieHandler() {
            private CookieManager jar(URI uri) {
              return uri.getPort() == URI.create(base).getPort()
                  ? cookies
                  : jars.computeIfAbsent(uri.getPort(), p -> new CookieManager());
            }

            @Override
            public Map<String, java.util.List<String>> get(
                URI uri, Map<String, java.util.List<String>> headers) throws java.io.IOException {
              return jar(uri).get(uri, headers);
            }

            @Override
            public void put(URI uri, Map<String, java.util.List<String>> headers)
                throws java.io.IOException {
              jar(uri).put(uri, headers);
            }
          };
    }
    this.http =
        HttpClient.newBuilder()
            .cookieHandler(handler)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url.startsWith("http") ? url : base + url))
            .header("Accept", "text/html")
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, Map<String, String> form, String authorization)
      throws Exception {
    StringBuilder body = new StringBuilder();
    form.forEach(
        (k, v) ->
            body.append(body.length() == 0 ? "" : "&")
                .append(k)
                .append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(path.startsWith("http") ? path : base + path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Posts JSON with this browser's cookies and its CSRF token in the header, as a page's script.
   */
  HttpResponse<String> postJson(String path, String csrf, byte[] json) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Content-Type", "application/json")
            .header("X-CSRF-TOKEN", csrf)
            .POST(HttpRequest.BodyPublishers.ofByteArray(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** As {@link #postJson}, sent in chunks: no declared length. */
  HttpResponse<String> postJsonChunked(String path, String csrf, byte[] json) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Content-Type", "application/json")
            .header("X-CSRF-TOKEN", csrf)
            .POST(
                HttpRequest.BodyPublishers.ofInputStream(
                    () -> new java.io.ByteArrayInputStream(json)))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Posts a form body as written, so a field may appear more than once. */
  HttpResponse<String> postForm(String path, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "text/html")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The token endpoint's answer for an authorization code (PKCE), the client by {@code basic}. */
  HttpResponse<String> tokensFor(String code, String redirectUri, String verifier, String basic)
      throws Exception {
    return post(
        "/oauth2/token",
        Map.of(
            "grant_type", "authorization_code",
            "code", code,
            "redirect_uri", redirectUri,
            "code_verifier", verifier),
        basic);
  }

  /** Signs in through the login form (with its CSRF token); the form post's answer. */
  HttpResponse<String> signIn(String username, String password) throws Exception {
    String csrf = group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", get("/login").body());
    return post("/login", Map.of("username", username, "password", password, "_csrf", csrf), null);
  }

  /**
   * The authorization code a signed-in person's browser brings back for this client (PKCE S256 with
   * {@code verifier}, no consent asked).
   */
  String authorizationCode(String clientId, String scope, String redirectUri, String verifier)
      throws Exception {
    return query(
            location(
                get(
                    "/oauth2/authorize?response_type=code&client_id="
                        + URLEncoder.encode(clientId, StandardCharsets.UTF_8)
                        + "&scope="
                        + URLEncoder.encode(scope, StandardCharsets.UTF_8)
                        + "&state=s&redirect_uri="
                        + URLEncoder.encode(redirectUri, StandardCharsets.UTF_8)
                        + "&code_challenge_method=S256&code_challenge="
                        + challenge(verifier))))
        .get("code");
  }

  private static final HttpClient PLAIN = HttpClient.newHttpClient();

  /** A JSON request as the admin APIs take them, with a bearer token unless it is null. */
  static HttpResponse<String> json(
      String base, String method, String path, String token, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return PLAIN.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** An HTTP Basic authorization header value (RFC 7617, as RFC 6749 §2.3.1 uses it). */
  static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  /** The cookie called {@code name} this browser holds, or null. */
  HttpCookie cookie(String name) {
    return cookies.getCookieStore().getCookies().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElse(null);
  }

  /** Puts {@code cookie} in this browser's jar, as if the provider had set it here. */
  void give(HttpCookie cookie) {
    cookies.getCookieStore().add(URI.create(base), cookie);
  }

  /** The value of the session cookie, or null. */
  String sessionId() {
    return cookies.getCookieStore().getCookies().stream()
        .filter(c -> c.getName().equals("YINXIN_SSO"))
        .map(HttpCookie::getValue)
        .findFirst()
        .orElse(null);
  }

  static String location(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(302);
    return r.headers().firstValue("Location").orElseThrow();
  }

  static String group(String regex, String text) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as(regex + " in:\n" + text).isTrue();
    return m.group(1);
  }

  static Map<String, String> query(String url) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : URI.create(url).getRawQuery().split("&")) {
      String[] kv = pair.split("=", 2);
      out.put(kv[0], URLDecoder.decode(kv.length > 1 ? kv[1] : "", StandardCharsets.UTF_8));
    }
    return out;
  }

  /** A PKCE code verifier (RFC 7636 §4.1): 32 random bytes, base64url. */
  static String verifier() {
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
  }

  /** Its S256 challenge (RFC 7636 §4.2). */
  static String challenge(String verifier) throws Exception {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(
            MessageDigest.getInstance("SHA-256")
                .digest(verifier.getBytes(StandardCharsets.US_ASCII)));
  }
}
