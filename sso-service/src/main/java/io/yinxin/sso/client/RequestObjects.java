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
 * since the redirect URI itself is unproven. {@code request_uri} is taken only as a pushed
 * request's (RFC 9126), which Spring resolves.
 */
public final class RequestObjects extends OncePerRequestFilter {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Set<String> NOT_PARAMETERS =
      Set.of("iss", "aud", "exp", "iat", "nbf", "jti");

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
    return !request.getRequestURI().endsWith("/oauth2/authorize")
        || request.getParameter("request") == null;
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    String[] objects = request.getParameterValues("request");
    String clientId = request.getParameter("client_id");
    RegisteredClient client = clientId == null ? null : clients.findByClientId(clientId);
    if (objects.length != 1
        || client == null
        || client.getClientSettings().getJwkSetUrl() == null) {
      refuse(response, "a request object needs client_id, once, of a client with a jwks_uri");
      return;
    }
    Jwt jwt;
    try {
      jwt = decoders.createDecoder(client).decode(objects[0]);
    } catch (JwtException
        | org.springframework.security.oauth2.core.OAuth2AuthenticationException e) {
      refuse(response, "the request object is not signed by the client or not valid now");
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

  private static void refuse(HttpServletResponse response, String why) throws IOException {
    response.setStatus(400);
    response.setContentType("application/json");
    response.setHeader("Cache-Control", "no-store");
    response
        .getOutputStream()
        .write(
            JSON.writeValueAsBytes(
                Map.of("error", "invalid_request_object", "error_description", why)));
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
