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
 * OpenID Providers under load from 64 concurrent scripted clients (no browser; tokens and
 * introspections from {@code wrk} on 64 kept-alive connections, or with {@code BENCH_LOAD=java} on
 * a {@link KeepAliveHttp} connection per Java thread; sign-ins on the JDK HttpClient):
 * client-credentials tokens/s, introspections/s and complete authorization-code + PKCE sign-ins/s
 * (authorize → sign-in form → password → code → token), each after a warm-up with the same load
 * until its throughput stops improving (the same rule for every provider), with the provider
 * process's CPU-seconds (from /proc) and RSS. The providers run side by side and take turns, round
 * by round, in the warm-up and in the measured rounds, so both meet the machine in the same
 * minutes. The same code drives Yinxin and Keycloak; only the sign-in page differs (Yinxin's form
 * with its CSRF token, Keycloak's form action URL), and both are followed as a browser would.
 *
 * <p>Arguments, 13 per provider, the first compared with the others: {@code name pid issuer
 * tokenUrl introspectUrl authorizeUrl ccClient ccSecret webClient webSecret redirectUri username
 * password}. Prints markdown rows.
 */
public final class SsoBench {
  private static final int CLIENTS = Integer.getInteger("bench.clients", 64);
  private static final Duration WARMUP =
      Duration.ofSeconds(
          Long.parseLong(System.getenv().getOrDefault("BENCH_WARMUP_SECONDS", "120")));
  private static final Duration WARMUP_MAX =
      Duration.ofSeconds(
          Long.parseLong(System.getenv().getOrDefault("BENCH_WARMUP_MAX_SECONDS", "300")));
  private static final Duration RUN =
      Duration.ofSeconds(Long.parseLong(System.getenv().getOrDefault("BENCH_SECONDS", "20")));
  private static final int ROUNDS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_ROUNDS", "5"));

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
    if (a.length == 0 || a.length % 13 != 0) {
      throw new IllegalArgumentException(
          "arguments: 13 per provider (name pid issuer tokenUrl introspectUrl authorizeUrl"
              + " ccClient ccSecret webClient webSecret redirectUri username password)");
    }
    List<Side> sides = new ArrayList<>();
    for (int i = 0; i < a.length; i += 13) {
      sides.add(
          new Side(
              new Target(
                  a[i],
                  Long.parseLong(a[i + 1]),
                  a[i + 3],
                  a[i + 4],
                  a[i + 5],
                  a[i + 6],
                  a[i + 7],
                  a[i + 8],
                  a[i + 9],
                  a[i + 10],
                  a[i + 11],
                  a[i + 12])));
    }
    HttpClient shared = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    for (Side s : sides) {
      // A resource server (the client-credentials client) introspects its own access token.
      String token = clientCredentials(shared, s.t);
      if (token == null || !introspect(shared, s.t, token) || !s.signIn.run()) {
        throw new IllegalStateException(s.t.name() + " is not set up: " + firstFailure);
      }
    }
    if (ROWS.contains("cc")) {
      row(sides, "client_credentials tokens/s", WRK ? Wrk::tokens : threads(s -> s.tokens));
    }
    if (ROWS.contains("introspect")) {
      row(sides, "introspections/s", WRK ? Wrk::introspections : threads(s -> s.introspections));
    }
    if (ROWS.contains("signin")) {
      row(sides, "code + PKCE sign-ins/s (password)", threads(s -> s.signIn));
    }
    for (Side s : sides) {
      System.out.printf(
          Locale.ROOT, "| %s | RSS after the runs | %.0f MB |  |%n", s.t.name(), rssMb(s.t.pid()));
    }
  }

  /**
   * One provider and its three workloads. The token and introspection rows go through a bare
   * keep-alive HTTP/1.1 connection per client thread (KeepAliveHttp): the JDK client spent about a
   * third of the machine's two cores on these small requests, so the provider that answers faster
   * was held back by the harness.
   */
  private static final class Side {
    final Target t;

    /** This round's connections, closed after it (each round has its own client threads). */
    final List<KeepAliveHttp> open = java.util.Collections.synchronizedList(new ArrayList<>());

    final ThreadLocal<KeepAliveHttp> raw =
        ThreadLocal.withInitial(
            () -> {
              KeepAliveHttp http = new KeepAliveHttp();
              open.add(http);
              return http;
            });
    final Op tokens;
    final Op introspections;
    final Op signIn;

    /**
     * The token the introspection row asks about, fetched anew before each round: with the two
     * providers taking turns a row can last longer than a token (Keycloak's live 5 minutes).
     */
    volatile String introspected;

    Side(Target t) {
      this.t = t;
      this.tokens = () -> clientCredentials(raw.get(), t) != null;
      this.introspections = () -> introspect(raw.get(), t, introspected);
      this.signIn = new CodeFlows(t);
    }

    void beforeRound() throws Exception {
      try (KeepAliveHttp http = new KeepAliveHttp()) {
        introspected = clientCredentials(http, t);
      }
      if (introspected == null) {
        throw new IllegalStateException(t.name() + ": no token to introspect: " + firstFailure);
      }
    }

    void afterRound() {
      synchronized (open) {
        open.forEach(KeepAliveHttp::close);
        open.clear();
      }
    }
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

  /** One provider's load for a while: requests answered as expected, and those that were not. */
  interface Load {
    long[] run(Side s, Duration d) throws Exception;
  }

  /**
   * The token and introspection rows on {@code wrk}: {@link #CLIENTS} kept-alive connections, a Lua
   * script per round that counts an answer as good only if it is what the Java client accepts (a
   * 200 with an access token whose header says ES256 — each distinct header decoded once per wrk
   * thread — or a 200 saying {@code "active": true}); anything else, and every connection error or
   * timeout, counts as failed.
   */
  static final class Wrk {
    private Wrk() {}

    static long[] tokens(Side s, Duration d) throws Exception {
      return run(
          s, d, s.t.tokenUrl(), "grant_type=client_credentials", TOKEN_IS_ES256_JWT, "token");
    }

    static long[] introspections(Side s, Duration d) throws Exception {
      return run(
          s,
          d,
          s.t.introspectUrl(),
          form(Map.of("token", s.introspected)),
          "body:find('\"active\"%s*:%s*true') ~= nil",
          "introspection");
    }

    /** Lua: whether a token response ({@code status}, {@code body}) holds an ES256 JWT. */
    private static final String TOKEN_IS_ES256_JWT =
        "es256(body:match('\"access_token\"%s*:%s*\"([^\"]+)\"'))";

    private static long[] run(
        Side s, Duration d, String url, String body, String check, String what) throws Exception {
      Path script = Files.createTempFile("yinxin-sso-bench", ".lua");
      try {
        Files.writeString(script, lua(body, basic(s.t.ccClient(), s.t.ccSecret()), check));
        String out =
            CaBench.wrkRun(
                url,
                (int) Math.max(1, d.toSeconds()),
                script,
                CLIENTS,
                List.of("--timeout", "30s"));
        Matcher m = Pattern.compile("YX ok=(\\d+) bad=(\\d+) errors=(\\d+)").matcher(out);
        if (!m.find()) {
          throw new IllegalStateException("wrk did not run: " + out);
        }
        Matcher first = Pattern.compile("YX first=(.*)").matcher(out);
        if (first.find()) {
          fail(what + ": " + first.group(1));
        }
        return new long[] {
          Long.parseLong(m.group(1)), Long.parseLong(m.group(2)) + Long.parseLong(m.group(3))
        };
      } finally {
        Files.deleteIfExists(script);
      }
    }

    private static String lua(String body, String authorization, String check) {
      return String.join(
          "\n",
          "wrk.method = 'POST'",
          "wrk.body = " + quoted(body),
          "wrk.headers['Content-Type'] = 'application/x-www-form-urlencoded'",
          "wrk.headers['Accept'] = 'application/json'",
          "wrk.headers['Authorization'] = " + quoted(authorization),
          "local threads = {}",
          "function setup(thread) table.insert(threads, thread) end",
          "function init(args) ok = 0; bad = 0; seen = {} end",
          "local B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'",
          "local function decode(s)",
          "  local out, acc, n = {}, 0, 0",
          "  for i = 1, #s do",
          "    local v = B64:find(s:sub(i, i), 1, true)",
          "    if not v then return nil end",
          "    acc = acc * 64 + (v - 1); n = n + 6",
          "    if n >= 8 then",
          "      n = n - 8",
          "      local byte = math.floor(acc / 2 ^ n)",
          "      out[#out + 1] = string.char(byte)",
          "      acc = acc - byte * 2 ^ n",
          "    end",
          "  end",
          "  return table.concat(out)",
          "end",
          "function es256(jwt)",
          "  local h = jwt and jwt:match('^([^.]+)%.')",
          "  if not h then return false end",
          "  local v = seen[h]",
          "  if v == nil then",
          "    local json = decode(h)",
          "    v = json ~= nil and json:gsub('%s', ''):find('\"alg\":\""
              + ALG
              + "\"', 1, true) ~= nil",
          "    seen[h] = v",
          "  end",
          "  return v",
          "end",
          "function response(status, headers, body)",
          "  if status == 200 and " + check + " then ok = ok + 1",
          "  else",
          "    bad = bad + 1",
          "    if first == nil then first = status .. ' ' .. body:sub(1, 200):gsub('%c', ' ') end",
          "  end",
          "end",
          "function done(summary, latency, requests)",
          "  local o, b, f = 0, 0, nil",
          "  for _, t in ipairs(threads) do",
          "    o = o + t:get('ok'); b = b + t:get('bad'); f = f or t:get('first')",
          "  end",
          "  local e = summary.errors",
          "  io.write(string.format('YX ok=%d bad=%d errors=%d\\n', o, b,"
              + " e.connect + e.read + e.write + e.timeout))",
          "  if f then io.write('YX first=' .. f .. '\\n') end",
          "end",
          "");
    }

    /** A Lua string literal (the values here are form and Base64 text; quoted anyway). */
    private static String quoted(String v) {
      return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
  }

  /** {@link #CLIENTS} Java threads, each running {@code op} over and over. */
  private static Load threads(java.util.function.Function<Side, Op> op) {
    return (s, d) -> run(op.apply(s), d);
  }

  /**
   * Which client drives the token and introspection rows: {@code wrk} (default; C, epoll, two
   * threads, {@link #CLIENTS} kept-alive connections) or {@code java} ({@link KeepAliveHttp}, one
   * blocking thread per connection). The harness shares the two cores with the provider it
   * measures, and the Java client took about 56 µs of CPU per request (0.25 of a core at 4,400
   * tokens/s against 0.09 at Keycloak's 1,700): the faster provider lost more of the machine to its
   * own load. Sign-ins (five requests, cookies, a form to read) stay on the Java client.
   */
  private static final boolean WRK =
      !"java".equals(System.getenv().getOrDefault("BENCH_LOAD", "wrk"));

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
   * Warm-up, the same rule for every provider (as {@link CaBench#warmUp}): on two cores the JIT is
   * still compiling minutes into a load, and a provider can sit on a plateau for a minute before
   * its next compilation lifts it. 10 s rounds, the providers taking turns, each until its own
   * rounds add up to BENCH_WARMUP_SECONDS and three of them in a row have not beaten its best so
   * far by 3 %, or until BENCH_WARMUP_MAX_SECONDS; the turns go on until every provider is there,
   * so all get the same number of rounds.
   */
  private static final class WarmUp {
    double best;
    int flat;
    double seconds;

    boolean done() {
      return seconds >= WARMUP_MAX.toSeconds() || seconds >= WARMUP.toSeconds() && flat >= 3;
    }

    void round(double rate, double secs) {
      seconds += secs;
      if (rate > best * 1.03) {
        best = rate;
        flat = 0;
      } else {
        flat++;
      }
    }
  }

  /**
   * One row: the warm-up, then BENCH_ROUNDS measured rounds per provider, taking turns (the first
   * to go alternates), BENCH_SECONDS per provider in all, so a machine whose speed drifts over
   * minutes drifts under all of them alike. Rate, CPU-seconds of the provider's process during its
   * own rounds, and the first provider's ratio to each other.
   */
  private static void row(List<Side> sides, String what, Load load) throws Exception {
    List<WarmUp> warm = new ArrayList<>();
    sides.forEach(s -> warm.add(new WarmUp()));
    while (!warm.stream().allMatch(WarmUp::done)) {
      for (int i = 0; i < sides.size(); i++) {
        Side s = sides.get(i);
        s.beforeRound();
        long t0 = System.nanoTime();
        long[] r = load.run(s, Duration.ofSeconds(10));
        double secs = (System.nanoTime() - t0) / 1e9;
        s.afterRound();
        warm.get(i).round(r[0] / secs, secs);
        System.err.printf(
            Locale.ROOT,
            "warm-up %s %s: %.0f/s after %.0f s%n",
            s.t.name(),
            what,
            r[0] / secs,
            warm.get(i).seconds);
      }
    }
    int n = sides.size();
    long[] ok = new long[n];
    long[] failed = new long[n];
    double[] secs = new double[n];
    double[] cpu = new double[n];
    Duration turn = RUN.dividedBy(ROUNDS);
    for (int round = 0; round < ROUNDS; round++) {
      for (int k = 0; k < n; k++) {
        int i = (k + round) % n;
        Side s = sides.get(i);
        s.beforeRound();
        long cpu0 = cpuTicks(s.t.pid());
        long t0 = System.nanoTime();
        long[] r = load.run(s, turn);
        secs[i] += (System.nanoTime() - t0) / 1e9;
        cpu[i] += (cpuTicks(s.t.pid()) - cpu0) / 100.0;
        s.afterRound();
        ok[i] += r[0];
        failed[i] += r[1];
      }
    }
    for (int i = 0; i < n; i++) {
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %.0f/s | server CPU %.1f s (%.0f per CPU-second)%s |%n",
          sides.get(i).t.name(),
          what,
          ok[i] / secs[i],
          cpu[i],
          ok[i] / Math.max(cpu[i], 0.01),
          failed[i] > 0 ? ", " + failed[i] + " failed" : "");
    }
    for (int i = 1; i < n; i++) {
      System.out.printf(
          Locale.ROOT,
          "| %s / %s | %s | %.2f× | %.2f× per CPU-second |%n",
          sides.get(0).t.name(),
          sides.get(i).t.name(),
          what,
          (ok[0] / secs[0]) / Math.max(ok[i] / secs[i], 1e-9),
          (ok[0] / Math.max(cpu[0], 0.01)) / Math.max(ok[i] / Math.max(cpu[i], 0.01), 1e-9));
    }
    if (firstFailure != null) {
      System.err.println(what + ": first failure: " + firstFailure);
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
