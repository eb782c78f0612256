package io.yinxin.sso.token;

import io.yinxin.sso.account.SecondFactorLogin;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationContext;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationException;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.web.savedrequest.HttpSessionRequestCache;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * OpenID Connect's {@code prompt=login}, {@code max_age} and {@code id_token_hint} (Core §3.1.2.1),
 * which Spring's authorization endpoint does not act on: a portal that asks for a fresh sign-in
 * (before a person seals a document, say) gets a code only after the person signed in again — with
 * {@code max_age}, only if their last sign-in is older than that many seconds; with an {@code
 * id_token_hint}, if that ID token names someone else than the person signed in — and the ID
 * token's {@code auth_time} says when. With {@code prompt=none} as well, the answer is {@code
 * login_required}.
 *
 * <p>The check runs as a validator of the authorization request, after Spring resolved a pushed
 * request (RFC 9126) or a request object, so it sees their parameters too. When the person must
 * sign in again, the session notes which request asked and which sign-in it had, the request is
 * saved, and the browser goes to the sign-in page; when the saved request comes back after a new
 * sign-in (the session's sign-in is no longer the one noted), the request is answered. As for CAS's
 * {@code renew}. A {@code max_age} that is not a canonical decimal of at most ten digits is {@code
 * invalid_request}.
 *
 * <p>{@code acr_values} that accept only {@link AuthenticationMethods#TWO_FACTORS} (step-up): a
 * session with one factor signs in again, and that sign-in must reach two ({@link
 * SecondFactorLogin#STEP_UP}: the code of the account's app, or setting one up first); a new
 * sign-in that still has one (through an upstream provider) answers the client {@code
 * unmet_authentication_requirements}, not another round.
 */
public final class FreshSignIn {
  static final String ASKED = FreshSignIn.class.getName() + ".asked";

  /** Thrown by the validator when the person must sign in again; the filter sends them there. */
  static final class Required extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String signInPage;

    Required(String signInPage) {
      super("a fresh sign-in is required", null, false, false);
      this.signInPage = signInPage;
    }
  }

  private final Clock clock;
  private final org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService
      authorizations;

  public FreshSignIn(
      Clock clock,
      org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService
          authorizations) {
    this.clock = clock;
    this.authorizations = authorizations;
  }

  /** Checks an authorization request for a fresh sign-in it asks for. */
  public Consumer<OAuth2AuthorizationCodeRequestAuthenticationContext> validator() {
    return context -> {
      OAuth2AuthorizationCodeRequestAuthenticationToken t = context.getAuthentication();
      Map<String, Object> p = t.getAdditionalParameters();
      Set<String> prompt = prompts(p.get("prompt"));
      OptionalLong maxAge = maxAge(p.get("max_age"), t, context.getRegisteredClient());
      Optional<String> hinted = hintedPerson(p.get("id_token_hint"));
      // A request that names no level gets the client's registered default_acr_values; a client
      // registered with minimum_acr two factors gets them whatever its request says.
      boolean twoFactors =
          asksTwoFactors(
                  p.containsKey("acr_values")
                      ? p.get("acr_values")
                      : io.yinxin.sso.client.ClientMetadata.defaultAcrValues(
                              context.getRegisteredClient())
                          .orElse(null),
                  t,
                  context.getRegisteredClient())
              || io.yinxin.sso.client.ClientMetadata.requiresTwoFactors(
                  context.getRegisteredClient());
      if (!prompt.contains("login") && maxAge.isEmpty() && hinted.isEmpty() && !twoFactors) {
        return;
      }
      if (!(RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes a)) {
        return;
      }
      HttpServletRequest request = a.getRequest();
      String asking = requestPrint(request);
      Authentication who = t.getPrincipal() instanceof Authentication w ? w : null;
      if (who == null || !who.isAuthenticated() || who instanceof AnonymousAuthenticationToken) {
        // Spring sends the browser to sign in; that sign-in is the fresh one.
        if (prompt.contains("login") || maxAge.isPresent() || twoFactors) {
          request
              .getSession()
              .setAttribute(ASKED, asking + "\n" + AuthenticationMethods.signIn(null));
        }
        if (twoFactors && !prompt.contains("none")) {
          // That sign-in must reach two factors; the sign-in page says why.
          request.getSession().setAttribute(SecondFactorLogin.STEP_UP, Boolean.TRUE);
          throw new Required("/login?stepup");
        }
        return;
      }
      boolean enough = !twoFactors || twoFactors(who);
      HttpSession session = request.getSession(false);
      Object asked = session == null ? null : session.getAttribute(ASKED);
      if (asked instanceof String s
          && s.startsWith(asking + "\n")
          && !s.substring(asking.length() + 1).equals(AuthenticationMethods.signIn(who))) {
        session.removeAttribute(ASKED); // signed in again since this request asked
        session.removeAttribute(SecondFactorLogin.STEP_UP);
        if (!enough) {
          // Signed in anew, and still with one factor (through an upstream provider, say): the
          // portal is told, rather than the browser sent round again (OpenID Connect Unmet
          // Authentication Requirements 1.0).
          throw error(
              "unmet_authentication_requirements", "acr_values", t, context.getRegisteredClient());
        }
        return;
      }
      boolean stale =
          prompt.contains("login")
              || !enough
              // The client's ID token names another person than the one signed in here.
              || hinted.filter(h -> !h.equals(who.getName())).isPresent()
              || (maxAge.isPresent()
                  && AuthenticationMethods.authTime(who)
                      .map(at -> at.plusSeconds(maxAge.getAsLong()).isBefore(clock.instant()))
                      .orElse(true));
      if (!stale) {
        if (session != null) {
          session.removeAttribute(SecondFactorLogin.STEP_UP);
        }
        return;
      }
      if (prompt.contains("none")) {
        throw error("login_required", "prompt", t, context.getRegisteredClient());
      }
      request.getSession().setAttribute(ASKED, asking + "\n" + AuthenticationMethods.signIn(who));
      if (!enough) {
        request.getSession().setAttribute(SecondFactorLogin.STEP_UP, Boolean.TRUE);
        throw new Required("/login?stepup");
      }
      throw new Required("/login");
    };
  }

  /**
   * Whether the request's {@code acr_values} (Core §3.1.2.1: in order of preference, any of them
   * acceptable) accept only {@link AuthenticationMethods#TWO_FACTORS}: the lowest level this
   * provider knows among them is that one. Values it does not know are passed over, as a voluntary
   * claim's may be; none known asks nothing.
   */
  private static boolean asksTwoFactors(
      Object value, OAuth2AuthorizationCodeRequestAuthenticationToken t, RegisteredClient client) {
    if (value == null) {
      return false;
    }
    if (!(value instanceof String s) || s.length() > 2_048) {
      throw error(OAuth2ErrorCodes.INVALID_REQUEST, "acr_values", t, client);
    }
    boolean two = false;
    for (String v : s.split(" ")) {
      if (v.equals(AuthenticationMethods.ONE_FACTOR)) {
        return false;
      }
      two |= v.equals(AuthenticationMethods.TWO_FACTORS);
    }
    return two;
  }

  /** Whether a sign-in reached two factors (or a certificate, or a passkey). */
  private static boolean twoFactors(Authentication who) {
    return AuthenticationMethods.TWO_FACTORS.equals(
        AuthenticationMethods.acr(AuthenticationMethods.amr(who.getAuthorities())));
  }

  /** Around Spring's authorization endpoint: a request that needs a fresh sign-in goes there. */
  public OncePerRequestFilter filter() {
    return new OncePerRequestFilter() {
      @Override
      protected void doFilterInternal(
          HttpServletRequest request, HttpServletResponse response, FilterChain chain)
          throws ServletException, IOException {
        try {
          chain.doFilter(request, response);
        } catch (Required e) {
          if (response.isCommitted()) {
            throw e;
          }
          new HttpSessionRequestCache().saveRequest(request, response);
          response.setHeader("Cache-Control", "no-store");
          response.sendRedirect(e.signInPage);
        }
      }
    };
  }

  /**
   * Who an {@code id_token_hint} names: the person of the authorization this provider issued that
   * ID token with. An unknown, forged or long-expired token (its authorization removed) names
   * nobody and is ignored, as a hint may be.
   */
  private Optional<String> hintedPerson(Object hint) {
    if (!(hint instanceof String token) || token.isEmpty() || token.length() > 16_384) {
      return Optional.empty();
    }
    var a =
        authorizations.findByToken(
            token,
            new org.springframework.security.oauth2.server.authorization.OAuth2TokenType(
                org.springframework.security.oauth2.core.oidc.endpoint.OidcParameterNames
                    .ID_TOKEN));
    return a == null ? Optional.empty() : Optional.of(a.getPrincipalName());
  }

  private static Set<String> prompts(Object prompt) {
    return prompt instanceof String s
        ? Arrays.stream(s.split(" ")).filter(v -> !v.isEmpty()).collect(Collectors.toSet())
        : Set.of();
  }

  private static OptionalLong maxAge(
      Object value, OAuth2AuthorizationCodeRequestAuthenticationToken t, RegisteredClient client) {
    if (value == null) {
      return OptionalLong.empty();
    }
    // One spelling per number: no sign, no leading zero, no exponent, at most ten digits.
    if (!(value instanceof String s) || !s.matches("0|[1-9][0-9]{0,9}")) {
      throw error(OAuth2ErrorCodes.INVALID_REQUEST, "max_age", t, client);
    }
    return OptionalLong.of(Long.parseLong(s));
  }

  /**
   * The request as the browser sent it. A saved request comes back the same, but for the {@code
   * continue} parameter Spring's request cache adds to it, which is left out.
   */
  private static String requestPrint(HttpServletRequest request) {
    String q = request.getQueryString();
    String kept =
        q == null
            ? ""
            : Arrays.stream(q.split("&"))
                .filter(v -> !v.equals("continue") && !v.startsWith("continue="))
                .collect(Collectors.joining("&"));
    String url = request.getRequestURI() + "?" + kept;
    return HexFormat.of()
        .formatHex(io.yinxin.sso.http.SsoAdmins.sha256(url.getBytes(StandardCharsets.UTF_8)));
  }

  /** An error the endpoint sends back to the client's redirect URI, as Spring's own are. */
  private static OAuth2AuthorizationCodeRequestAuthenticationException error(
      String code,
      String parameter,
      OAuth2AuthorizationCodeRequestAuthenticationToken t,
      RegisteredClient client) {
    String redirectUri =
        t.getRedirectUri() != null && !t.getRedirectUri().isBlank()
            ? t.getRedirectUri()
            : client.getRedirectUris().iterator().next();
    OAuth2AuthorizationCodeRequestAuthenticationToken withRedirect =
        new OAuth2AuthorizationCodeRequestAuthenticationToken(
            t.getAuthorizationUri(),
            t.getClientId(),
            (Authentication) t.getPrincipal(),
            redirectUri,
            t.getState(),
            t.getScopes(),
            t.getAdditionalParameters());
    return new OAuth2AuthorizationCodeRequestAuthenticationException(
        new OAuth2Error(
            code,
            "OpenID Connect parameter: " + parameter,
            "https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest"),
        withRedirect);
  }
}
