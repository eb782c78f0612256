package io.yinxin.sso.client;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.jwt.JwtTimestampValidator;
import org.springframework.security.oauth2.server.authorization.authentication.JwtClientAssertionDecoderFactory;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * JWT-secured authorization requests (RFC 9101), which the upstream server lacks: an authorization
 * request may carry its parameters in a {@code request} object signed by the client's own key (a
 * client registered with {@code jwks_uri}, as for private_key_jwt). The object is checked — the
 * signature by a key of the client's JWK set with the client's algorithm (never {@code none} or a
 * MAC), {@code iss} and {@code client_id} the client, {@code aud} this issuer, unexpired — and then
 * its claims are the request's parameters, and only they (§6.3: the outer query may not add or
 * override any). Anything wrong answers 400 {@code invalid_request_object} without a redirect,
 * since the redirect URI itself is unproven.
 *
 * <p>By reference (§5.2): a {@code request_uri} other than a pushed request's (RFC 9126, which
 * Spring resolves) is fetched only if the client registered it ({@code request_uris}, exact match
 * without the fragment; never a URL an attacker chose), with a GET that may not redirect, must
 * answer 200 within {@value #FETCH_SECONDS} s in all and is read to at most {@value #MAX_OBJECT}
 * bytes; a fragment, if present, must be the base64url SHA-256 of the object (OpenID Connect Core
 * §6.2). The fetched object is then checked like one sent by value. Anything wrong answers 400
 * {@code invalid_request_uri}.
 */
public final class RequestObjects extends OncePerRequestFilter {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Set<String> NOT_PARAMETERS =
      // request and request_uri inside an object are not parameters either (RFC 9101 §4).
      Set.of("iss", "aud", "exp", "iat", "nbf", "jti", "request", "request_uri");

  /** Client settings key of the registered request URIs, space-separated. */
  public static final String REQUEST_URIS = "yinxin.request_uris";

  static final int MAX_OBJECT = 64 * 1024;
  static final int FETCH_SECONDS = 5;
  private static final String PUSHED = "urn:ietf:params:oauth:request_uri:";
  private static final java.net.http.HttpClient HTTP =
      java.net.http.HttpClient.newBuilder()
          .connectTimeout(java.time.Duration.ofSeconds(FETCH_SECONDS))
          .followRedirects(java.net.http.HttpClient.Redirect.NEVER)
          .build();
  private static final java.util.concurrent.ExecutorService READERS =
      java.util.concurrent.Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "request-uri-reader");
            t.setDaemon(true);
            return t;
          });

  private final RegisteredClientRepository clients;
  private final Supplier<String> issuer;
  private final JwtClientAssertionDecoderFactory decoders = new JwtClientAssertionDecoderFactory();

  /**
   * @param issuer this provider's issuer for the current request
   */
  public RequestObjects(RegisteredClientRepository clients, Supplier<String> issuer) {
    this.clients = clients;
    this.issuer = issuer;
    decoders.setJwtValidatorFactory(
        client ->
            new DelegatingOAuth2TokenValidator<>(
                new JwtTimestampValidator(),
                new JwtClaimValidator<Object>("exp", java.util.Objects::nonNull),
                new JwtClaimValidator<Object>("iss", client.getClientId()::equals),
                new JwtClaimValidator<Object>("client_id", client.getClientId()::equals),
                jwt -> {
                  List<String> aud = jwt.getAudience();
                  return aud != null && aud.contains(this.issuer.get())
                      ? OAuth2TokenValidatorResult.success()
                      : OAuth2TokenValidatorResult.failure(
                          new OAuth2Error(
                              "invalid_request_object", "aud is not this issuer", null));
                }));
  }

  @Override
  protected boolean shouldNotFilter(HttpServletRequest request) {
    if (!request.getRequestURI().endsWith("/oauth2/authorize")) {
      return true;
    }
    String uri = request.getParameter("request_uri");
    return request.getParameter("request") == null && (uri == null || uri.startsWith(PUSHED));
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    String[] objects = request.getParameterValues("request");
    String[] references = request.getParameterValues("request_uri");
    String clientId = request.getParameter("client_id");
    RegisteredClient client = clientId == null ? null : clients.findByClientId(clientId);
    if ((objects == null) == (references == null)
        || (objects != null ? objects : references).length != 1
        || client == null
        || client.getClientSettings().getJwkSetUrl() == null) {
      refuse(
          response,
          "invalid_request_object",
          "a request object (request or request_uri, once, not both) needs client_id of a client"
              + " with a jwks_uri");
      return;
    }
    String object;
    if (objects != null) {
      object = objects[0];
    } else {
      java.util.Optional<String> fetched = fetch(client, references[0]);
      if (fetched.isEmpty()) {
        refuse(
            response,
            "invalid_request_uri",
            "the request_uri is not registered for this client or did not give a request object");
        return;
      }
      object = fetched.get();
    }
    Jwt jwt;
    try {
      jwt = decoders.createDecoder(client).decode(object);
    } catch (JwtException
        | org.springframework.security.oauth2.core.OAuth2AuthenticationException e) {
      refuse(
          response,
          "invalid_request_object",
          "the request object is not signed by the client or not valid now");
      return;
    }
    Map<String, String[]> parameters = new LinkedHashMap<>();
    for (Map.Entry<String, Object> claim : jwt.getClaims().entrySet()) {
      if (NOT_PARAMETERS.contains(claim.getKey())) {
        continue;
      }
      Object v = claim.getValue();
      String text =
          v instanceof String s
              ? s
              : v instanceof Collection<?> c && claim.getKey().equals("scope")
                  ? String.join(" ", c.stream().map(String::valueOf).toList())
                  : JSON.writeValueAsString(v);
      parameters.put(claim.getKey(), new String[] {text});
    }
    chain.doFilter(new Parameters(request, parameters), response);
  }

  /**
   * The request object at a registered {@code request_uri}, or empty: not registered, not
   * reachable, not 200, too slow, too large, or not matching its fragment's hash.
   */
  private static java.util.Optional<String> fetch(RegisteredClient client, String reference) {
    java.net.URI uri;
    try {
      uri = new java.net.URI(reference);
    } catch (java.net.URISyntaxException e) {
      return java.util.Optional.empty();
    }
    String withoutFragment =
        uri.getRawFragment() == null
            ? reference
            : reference.substring(0, reference.length() - uri.getRawFragment().length() - 1);
    Object registered = client.getClientSettings().getSetting(REQUEST_URIS);
    if (!(registered instanceof String list)
        || !List.of(list.split(" ")).contains(withoutFragment)) {
      return java.util.Optional.empty();
    }
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(FETCH_SECONDS).toNanos();
    java.io.InputStream in = null;
    try {
      java.net.http.HttpResponse<java.io.InputStream> r =
          HTTP.sendAsync(
                  java.net.http.HttpRequest.newBuilder(new java.net.URI(withoutFragment))
                      .header("Accept", "application/oauth-authz-req+jwt, application/jwt")
                      .timeout(java.time.Duration.ofSeconds(FETCH_SECONDS))
                      .GET()
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofInputStream())
              .get(FETCH_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
      in = r.body();
      if (r.statusCode() != 200) {
        return java.util.Optional.empty();
      }
      java.io.InputStream body = in;
      // The whole body within the same deadline: a slow server cannot hold this request.
      byte[] bytes =
          java.util.concurrent.CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      return body.readNBytes(MAX_OBJECT + 1);
                    } catch (IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  },
                  READERS)
              .get(
                  Math.max(1, deadline - System.nanoTime()),
                  java.util.concurrent.TimeUnit.NANOSECONDS);
      if (bytes.length > MAX_OBJECT) {
        return java.util.Optional.empty();
      }
      if (uri.getRawFragment() != null
          && !uri.getRawFragment()
              .equals(
                  java.util.Base64.getUrlEncoder()
                      .withoutPadding()
                      .encodeToString(
                          java.security.MessageDigest.getInstance("SHA-256").digest(bytes)))) {
        return java.util.Optional.empty();
      }
      return java.util.Optional.of(new String(bytes, StandardCharsets.US_ASCII).strip());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return java.util.Optional.empty();
    } catch (java.util.concurrent.ExecutionException
        | java.util.concurrent.TimeoutException
        | java.net.URISyntaxException
        | java.security.NoSuchAlgorithmException
        | IllegalArgumentException e) {
      return java.util.Optional.empty();
    } finally {
      if (in != null) {
        try {
          in.close();
        } catch (IOException e) {
          // the connection is dropped either way
        }
      }
    }
  }

  private static void refuse(HttpServletResponse response, String error, String why)
      throws IOException {
    response.setStatus(400);
    response.setContentType("application/json");
    response.setHeader("Cache-Control", "no-store");
    response
        .getOutputStream()
        .write(JSON.writeValueAsBytes(Map.of("error", error, "error_description", why)));
  }

  /** The request with the request object's parameters and no others. */
  private static final class Parameters extends HttpServletRequestWrapper {
    private final Map<String, String[]> parameters;

    Parameters(HttpServletRequest request, Map<String, String[]> parameters) {
      super(request);
      this.parameters = Collections.unmodifiableMap(parameters);
    }

    @Override
    public String getParameter(String name) {
      String[] v = parameters.get(name);
      return v == null ? null : v[0];
    }

    @Override
    public Map<String, String[]> getParameterMap() {
      return parameters;
    }

    @Override
    public Enumeration<String> getParameterNames() {
      return Collections.enumeration(parameters.keySet());
    }

    @Override
    public String[] getParameterValues(String name) {
      return parameters.get(name);
    }

    @Override
    public String getQueryString() {
      if (!"GET".equals(getMethod())) {
        return null;
      }
      StringBuilder q = new StringBuilder();
      parameters.forEach(
          (k, vs) -> {
            for (String v : vs) {
              q.append(q.length() == 0 ? "" : "&")
                  .append(URLEncoder.encode(k, StandardCharsets.UTF_8))
                  .append('=')
                  .append(URLEncoder.encode(v, StandardCharsets.UTF_8));
            }
          });
      return q.toString();
    }
  }
}
