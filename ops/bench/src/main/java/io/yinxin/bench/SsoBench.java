package io.yinxin.bench;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One OpenID Provider under load from 64 concurrent scripted clients (no browser; tokens and
 * introspections on a {@link KeepAliveHttp} connection each, sign-ins on the JDK HttpClient):
 * client-credentials tokens/s, introspections/s and complete authorization-code + PKCE sign-ins/s
 * (authorize → sign-in form → password → code → token), each after a warm-up with the same load
 * until its throughput stops improving (the same rule for both providers), with the provider
 * process's CPU-seconds (from /proc) and RSS. The same code drives Yinxin and Keycloak; only the
 * sign-in page differs (Yinxin's form with its CSRF token, Keycloak's form action URL), and both
 * are followed as a browser would.
 *
 * <p>Arguments: {@code name pid issuer tokenUrl introspectUrl authorizeUrl ccClient ccSecret
 * webClient webSecret redirectUri username password}. Prints markdown rows.
 */
public final class SsoBench {
  private static final int CLIENTS = Integer.getInteger("bench.clients", 64);
  private static final Duration WARMUP =
      Duration.ofSeconds(
          Long.parseLong(System.getenv().getOrDefault("BENCH_WARMUP_SECONDS", "20")));
  private static final Duration WARMUP_MAX =
      Duration.ofSeconds(
          Long.parseLong(System.getenv().getOrDefault("BENCH_WARMUP_MAX_SECONDS", "180")));
  private static final Duration RUN =
      Duration.ofSeconds(Long.parseLong(System.getenv().getOrDefault("BENCH_SECONDS", "10")));

  /** Which rows to run ({@code cc,introspect,signin}; all by default), e.g. to profile one. */
  private static final List<String> ROWS =
      List.of(System.getenv().getOrDefault("BENCH_ROWS", "cc,introspect,signin").split(","));

  private record Target(
      String name,
      long pid,
      String tokenUrl,
      String introspectUrl,
      String authorizeUrl,
      String ccClient,
      String ccSecret,
      String webClient,
      String webSecret,
      String redirectUri,
      String username,
      String password) {}

  public static void main(String[] a) throws Exception {
    Target t =
        new Target(
            a[0],
            Long.parseLong(a[1]),
            a[3],
            a[4],
            a[5],
            a[6],
            a[7],
            a[8],
            a[9],
            a[10],
            a[11],
            a[12]);
    HttpClient shared = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    // A resource server (the client-credentials client) introspects its own access token.
    String token = clientCredentials(shared, t);
    if (token == null || !introspect(shared, t, token) || !new CodeFlows(t).run()) {
      throw new IllegalStateException("the provider is not set up: " + firstFailure);
    }
    // The token and introspection rows go through a bare keep-alive HTTP/1.1 connection per
    // client (KeepAliveHttp): the JDK client spent about a third of the machine's two cores on
    // these small requests, so the provider that answers faster was held back by the harness.
    ThreadLocal<KeepAliveHttp> raw = ThreadLocal.withInitial(KeepAliveHttp::new);
    if (ROWS.contains("cc")) {
      row(t, "client_credentials tokens/s", () -> clientCredentials(raw.get(), t) != null);
    }
    // A fresh token for the introspection row: the first one may have expired during the
    // previous row's warm-up (Keycloak's default lifetime is 5 minutes; a row can take 190 s).
    String fresh = clientCredentials(shared, t);
    if (fresh == null) {
      throw new IllegalStateException("no token for the introspection row: " + firstFailure);
    }
    if (ROWS.contains("introspect")) {
      row(t, "introspections/s", () -> introspect(raw.get(), t, fresh));
    }
    if (ROWS.contains("signin")) {
      row(t, "code + PKCE sign-ins/s (password)", new CodeFlows(t));
    }
    System.out.printf(
        Locale.ROOT, "| %s | RSS after the runs | %.0f MB |  |%n", t.name(), rssMb(t.pid()));
  }

  /** The first failure of a run, printed after its row so a broken setup is visible. */
  private static volatile String firstFailure;

  /**
   * Both providers sign every token of the benchmark with ES256 (the "ES256 tokens";
   * Keycloak's realm is set to it and given a P-256 key, Yinxin's web client registers it for ID
   * tokens), so the rows compare the providers, not RSA against ECDSA: each token's header is
   * checked.
   */
  private static final String ALG = "ES256";

  private static boolean signedWith(String jwt, String what) {
    int dot = jwt.indexOf('.');
    String header =
        dot < 0
            ? ""
            : new String(
                Base64.getUrlDecoder().decode(jwt.substring(0, dot)), StandardCharsets.UTF_8);
    return header.replace(" ", "").contains("\"alg\":\"" + ALG + "\"")
        || fail(what + " not signed with " + ALG + ": " + header);
  }

  private static final Pattern ID_TOKEN = Pattern.compile("\"id_token\"\\s*:\\s*\"([^\"]+)\"");

  private static boolean fail(String why) {
    if (firstFailure == null) {
      firstFailure = why;
    }
    return false;
  }

  interface Op {
    boolean run() throws Exception;
  }

  /**
   * A browser's cookie jar on the loopback address: Keycloak marks its cookies {@code Secure} (with
   * {@code SameSite=None}) even over http, and browsers send them to http://127.0.0.1 as a
   * trustworthy origin, where the JDK's CookieManager would not. Name and value only, per jar.
   */
  static final class LoopbackCookies extends java.net.CookieHandler {
    private final Map<String, String> cookies = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public Map<String, List<String>> get(URI uri, Map<String, List<String>> headers) {
      if (cookies.isEmpty()) {
        return Map.of();
      }
      StringBuilder sb = new StringBuilder();
      cookies.forEach(
          (k, v) -> sb.append(sb.length() == 0 ? "" : "; ").append(k).append('=').append(v));
      return Map.of("Cookie", List.of(sb.toString()));
    }

    @Override
    public void put(URI uri, Map<String, List<String>> headers) {
      for (Map.Entry<String, List<String>> h : headers.entrySet()) {
        if (h.getKey() == null || !h.getKey().equalsIgnoreCase("Set-Cookie")) {
          continue;
        }
        for (String c : h.getValue()) {
          String pair = c.split(";", 2)[0];
          int eq = pair.indexOf('=');
          if (eq <= 0) {
            continue;
          }
          String name = pair.substring(0, eq).strip();
          String value = pair.substring(eq + 1).strip();
          if (value.isEmpty() || c.toLowerCase(Locale.ROOT).contains("max-age=0")) {
            cookies.remove(name);
          } else {
            cookies.put(name, value);
          }
        }
      }
    }

    void clear() {
      cookies.clear();
    }
  }

  /** Per-thread browsers (cookies cleared per sign-in, as a new visitor). */
  static final class CodeFlows implements Op {
    private final Target t;
    private final ThreadLocal<Object[]> browsers;

    CodeFlows(Target t) {
      this.t = t;
      this.browsers =
          ThreadLocal.withInitial(
              () -> {
                LoopbackCookies cookies = new LoopbackCookies();
                HttpClient http =
                    HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .cookieHandler(cookies)
                        .followRedirects(HttpClient.Redirect.NEVER)
                        .build();
                return new Object[] {http, cookies};
              });
    }

    @Override
    public boolean run() throws Exception {
      Object[] b = browsers.get();
      HttpClient http = (HttpClient) b[0];
      ((LoopbackCookies) b[1]).clear();
      return codeFlow(http, t);
    }
  }

  /**
   * Warm-up, the same rule for both providers (as {@link CaBench#warmUp}): on two cores the JIT is
   * still compiling a minute into a load, so 10 s rounds for at least BENCH_WARMUP_SECONDS, then
   * until three rounds in a row do not beat the best so far by 3 %, or BENCH_WARMUP_MAX_SECONDS.
   */
  private static void warmUp(Target t, String what, Op op) throws Exception {
    long start = System.nanoTime();
    double best = 0;
    int flat = 0;
    while (true) {
      long t0 = System.nanoTime();
      long[] r = run(op, Duration.ofSeconds(10));
      double rate = r[0] / ((System.nanoTime() - t0) / 1e9);
      double elapsed = (System.nanoTime() - start) / 1e9;
      System.err.printf(
          Locale.ROOT, "warm-up %s %s: %.0f/s after %.0f s%n", t.name(), what, rate, elapsed);
      if (rate > best * 1.03) {
        best = rate;
        flat = 0;
      } else {
        flat++;
      }
      if (elapsed >= WARMUP_MAX.toSeconds() || elapsed >= WARMUP.toSeconds() && flat >= 3) {
        return;
      }
    }
  }

  private static void row(Target t, String what, Op op) throws Exception {
    warmUp(t, what, op);
    long cpu0 = cpuTicks(t.pid());
    long t0 = System.nanoTime();
    long[] r = run(op, RUN);
    double secs = (System.nanoTime() - t0) / 1e9;
    double cpu = (cpuTicks(t.pid()) - cpu0) / 100.0;
    System.out.printf(
        Locale.ROOT,
        "| %s | %s | %.0f/s | server CPU %.1f s (%.0f per CPU-second)%s |%n",
        t.name(),
        what,
        r[0] / secs,
        cpu,
        r[0] / Math.max(cpu, 0.01),
        r[1] > 0 ? ", " + r[1] + " failed" : "");
    if (firstFailure != null) {
      System.err.println(t.name() + " " + what + ": first failure: " + firstFailure);
      firstFailure = null;
    }
  }

  private static long[] run(Op op, Duration d) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong ok = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < CLIENTS; i++) {
      Thread th =
          new Thread(
              () -> {
                while (!stop.get()) {
                  try {
                    if (op.run()) {
                      ok.incrementAndGet();
                    } else {
                      failed.incrementAndGet();
                    }
                  } catch (Exception e) {
                    fail(e.toString());
                    failed.incrementAndGet();
                  }
                }
              });
      th.start();
      threads.add(th);
    }
    Thread.sleep(d.toMillis());
    stop.set(true);
    for (Thread th : threads) {
      th.join();
    }
    return new long[] {ok.get(), failed.get()};
  }

  private static String form(Map<String, String> m) {
    StringBuilder sb = new StringBuilder();
    m.forEach(
        (k, v) ->
            sb.append(sb.length() == 0 ? "" : "&")
                .append(k)
                .append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
    return sb.toString();
  }

  private static String basic(String id, String secret) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString(
                (URLEncoder.encode(id, StandardCharsets.UTF_8)
                        + ":"
                        + URLEncoder.encode(secret, StandardCharsets.UTF_8))
                    .getBytes(StandardCharsets.UTF_8));
  }

  private static HttpResponse<String> postForm(
      HttpClient http, String url, Map<String, String> body, String authorization)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form(body)));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static final Pattern ACCESS_TOKEN =
      Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"");

  static String clientCredentials(HttpClient http, Target t) throws Exception {
    HttpResponse<String> r =
        postForm(
            http,
            t.tokenUrl(),
            Map.of("grant_type", "client_credentials"),
            basic(t.ccClient(), t.ccSecret()));
    if (r.statusCode() != 200) {
      return null;
    }
    Matcher m = ACCESS_TOKEN.matcher(r.body());
    return m.find() ? m.group(1) : null;
  }

  static boolean introspect(HttpClient http, Target t, String token) throws Exception {
    HttpResponse<String> r =
        postForm(
            http, t.introspectUrl(), Map.of("token", token), basic(t.ccClient(), t.ccSecret()));
    return r.statusCode() == 200 && r.body().replace(" ", "").contains("\"active\":true")
        || fail("introspection: " + r.statusCode() + " " + r.body());
  }

  static String clientCredentials(KeepAliveHttp http, Target t) throws Exception {
    KeepAliveHttp.Response r =
        http.postForm(
            t.tokenUrl(), "grant_type=client_credentials", basic(t.ccClient(), t.ccSecret()));
    if (r.status() != 200) {
      fail("token: " + r.status() + " " + r.body());
      return null;
    }
    Matcher m = ACCESS_TOKEN.matcher(r.body());
    return m.find() && signedWith(m.group(1), "access token") ? m.group(1) : null;
  }

  static boolean introspect(KeepAliveHttp http, Target t, String token) throws Exception {
    KeepAliveHttp.Response r =
        http.postForm(
            t.introspectUrl(), form(Map.of("token", token)), basic(t.ccClient(), t.ccSecret()));
    return r.status() == 200 && r.body().replace(" ", "").contains("\"active\":true")
        || fail("introspection: " + r.status() + " " + r.body());
  }

  private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"");
  private static final Pattern KC_ACTION =
      Pattern.compile("id=\"kc-form-login\"[^>]*action=\"([^\"]+)\"");

  static boolean codeFlow(HttpClient http, Target t) throws Exception {
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    String verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    String challenge =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(
                MessageDigest.getInstance("SHA-256")
                    .digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    String authorize =
        t.authorizeUrl()
            + "?response_type=code&client_id="
            + t.webClient()
            + "&scope=openid&state=s1&nonce=n1&code_challenge_method=S256&code_challenge="
            + challenge
            + "&redirect_uri="
            + URLEncoder.encode(t.redirectUri(), StandardCharsets.UTF_8);
    HttpResponse<String> r = get(http, authorize);
    if (r.statusCode() == 302) { // Yinxin: to its sign-in page, which carries a CSRF token
      String login = absolute(authorize, location(r));
      r = get(http, login);
      Matcher m = CSRF.matcher(r.body());
      if (!m.find()) {
        return fail("no CSRF token at " + login + ": " + r.statusCode());
      }
      r =
          postForm(
              http,
              login,
              Map.of("username", t.username(), "password", t.password(), "_csrf", m.group(1)),
              null);
      if (r.statusCode() != 302) {
        return fail("sign-in answered " + r.statusCode());
      }
      r = get(http, absolute(authorize, location(r)));
    } else { // Keycloak: the sign-in page is the answer, its form posts to a session URL
      Matcher m = KC_ACTION.matcher(r.body());
      if (!m.find()) {
        return fail(
            "no login form: "
                + r.statusCode()
                + " "
                + r.body().substring(0, Math.min(300, r.body().length())));
      }
      r =
          postForm(
              http,
              m.group(1).replace("&amp;", "&"),
              Map.of("username", t.username(), "password", t.password(), "credentialId", ""),
              null);
    }
    if (r.statusCode() != 302 || !location(r).startsWith(t.redirectUri())) {
      return fail("after sign-in: " + r.statusCode() + " " + location(r));
    }
    Matcher code = Pattern.compile("[?&]code=([^&]+)").matcher(location(r));
    if (!code.find()) {
      return false;
    }
    HttpResponse<String> tokens =
        postForm(
            http,
            t.tokenUrl(),
            Map.of(
                "grant_type",
                "authorization_code",
                "code",
                java.net.URLDecoder.decode(code.group(1), StandardCharsets.UTF_8),
                "redirect_uri",
                t.redirectUri(),
                "code_verifier",
                verifier),
            basic(t.webClient(), t.webSecret()));
    if (tokens.statusCode() != 200) {
      return fail("token: " + tokens.statusCode() + " " + tokens.body());
    }
    Matcher id = ID_TOKEN.matcher(tokens.body());
    return id.find() ? signedWith(id.group(1), "ID token") : fail("no ID token: " + tokens.body());
  }

  private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/html").build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String location(HttpResponse<String> r) {
    return r.headers().firstValue("Location").orElse("");
  }

  private static String absolute(String base, String location) {
    return URI.create(base).resolve(location).toString();
  }

  private static long cpuTicks(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  private static double rssMb(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return -1;
  }
}
