package io.yinxin.sso.token;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationContext;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * OpenID Connect's {@code ui_locales} and {@code login_hint} (Core §3.1.2.1), which upstream
 * ignores: the latest authorization request's preferred language (the first of its tags that is
 * Chinese or English) becomes the session's page language, and a login hint that is a valid
 * username fills in the sign-in form's username. Read after a pushed request or a request object
 * was resolved, so theirs count too. Anything else in them is ignored, as the specification allows.
 */
public final class SignInHints {
  /** Session attribute: "zh" or "en", from ui_locales. */
  public static final String LANGUAGE = SignInHints.class.getName() + ".language";

  /** Session attribute: a canonical username, from login_hint. */
  public static final String USERNAME = SignInHints.class.getName() + ".username";

  private SignInHints() {}

  /** Notes the hints of an authorization request in its session (none: forgets earlier ones). */
  public static Consumer<OAuth2AuthorizationCodeRequestAuthenticationContext> validator() {
    return context -> {
      if (!(RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes a)) {
        return;
      }
      org.springframework.security.oauth2.server.authorization.authentication
              .OAuth2AuthorizationCodeRequestAuthenticationToken
          t = context.getAuthentication();
      Map<String, Object> p = t.getAdditionalParameters();
      Optional<String> language = language(p.get("ui_locales"));
      Optional<String> username =
          p.get("login_hint") instanceof String hint
              ? io.yinxin.sso.account.Accounts.canonical(hint)
              : Optional.empty();
      HttpSession session = a.getRequest().getSession(language.isPresent() || username.isPresent());
      if (session != null) {
        set(session, LANGUAGE, language);
        set(session, USERNAME, username);
      }
    };
  }

  private static void set(HttpSession session, String name, Optional<String> value) {
    if (value.isPresent()) {
      session.setAttribute(name, value.get());
    } else if (session.getAttribute(name) != null) {
      session.removeAttribute(name);
    }
  }

  /** The first of the space-separated language tags that is Chinese or English. */
  static Optional<String> language(Object uiLocales) {
    if (!(uiLocales instanceof String s) || s.length() > 200) {
      return Optional.empty();
    }
    for (String tag : s.split(" ")) {
      String t = tag.toLowerCase(Locale.ROOT);
      if (t.equals("zh") || t.startsWith("zh-")) {
        return Optional.of("zh");
      }
      if (t.equals("en") || t.startsWith("en-")) {
        return Optional.of("en");
      }
    }
    return Optional.empty();
  }

  /** The page language an earlier authorization request asked for in this session, if any. */
  public static Optional<String> language(HttpServletRequest request) {
    HttpSession session = request.getSession(false);
    return session != null && session.getAttribute(LANGUAGE) instanceof String l
        ? Optional.of(l)
        : Optional.empty();
  }

  /** The username a login hint of this session's authorization request named, if any. */
  public static Optional<String> username(HttpServletRequest request) {
    HttpSession session = request.getSession(false);
    return session != null && session.getAttribute(USERNAME) instanceof String u
        ? Optional.of(u)
        : Optional.empty();
  }
}
