package io.yinxin.sso.web;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.account.SecondFactors;
import io.yinxin.sso.account.SignIns;
import io.yinxin.sso.realname.RealNames;
import io.yinxin.sso.spring.SsoSessions;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.Serializable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.authentication.CredentialsExpiredException;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.authentication.AuthenticationFailureHandler;
import org.springframework.security.web.authentication.SimpleUrlAuthenticationFailureHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The account page {@code /account}, in Chinese and English: who you are (and your real-name
 * identity, masked), two-step verification, a password change, the sessions signed in as you (end
 * the others with one button), and your recent sign-ins; and {@code /login/password}, where an
 * account whose password must be replaced (the administrator's one-time password) sets a new one
 * before it can sign in at all. Changing a password ends the account's other sessions and is a
 * {@code CONFIG_CHANGED} audit event. Shortly after a certificate or passkey sign-in a forgotten
 * password is replaced without the current one ({@link #mayReplacePassword}).
 */
@RestController
public class AccountPages {
  static final String MUST_CHANGE = AccountPages.class.getName() + ".mustChange";
  private static final Duration PENDING = Duration.ofMinutes(10);
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss xxx").withZone(ZoneId.systemDefault());

  /** An account that proved its password and must now replace it. */
  record MustChange(String username, Instant at) implements Serializable {}

  private final Accounts accounts;
  private final SecondFactors factors;
  private final RealNames realNames;
  private final SignIns signIns;
  private final SsoSessions sessions;
  private final AuditLog audit;
  private final Clock clock;
  private final io.yinxin.sso.federation.Upstreams upstreams;
  private final boolean passkeys;
  private final io.yinxin.sso.account.ConnectedApps apps;
  private final io.yinxin.audit.AuditOutbox outbox;
  private final io.yinxin.sso.account.LoginThrottle throttle;

  /**
   * How long after a certificate or passkey sign-in the password may be replaced without the
   * current one: as long as {@link RecentSignIn} takes a change after its page.
   */
  private final Duration replaceWithin;

  public AccountPages(
      Accounts accounts,
      SecondFactors factors,
      RealNames realNames,
      SignIns signIns,
      SsoSessions sessions,
      AuditLog audit,
      Clock clock,
      io.yinxin.sso.federation.Upstreams upstreams,
      boolean passkeys,
      io.yinxin.sso.account.ConnectedApps apps,
      io.yinxin.audit.AuditOutbox outbox,
      io.yinxin.sso.account.LoginThrottle throttle,
      Duration credentialChangeMaxAge) {
    this.throttle = throttle;
    this.replaceWithin = credentialChangeMaxAge.multipliedBy(RecentSignIn.CHANGE_WITHIN);
    this.apps = apps;
    this.outbox = outbox;
    this.upstreams = upstreams;
    this.passkeys = passkeys;
    this.accounts = accounts;
    this.factors = factors;
    this.realNames = realNames;
    this.signIns = signIns;
    this.sessions = sessions;
    this.audit = audit;
    this.clock = clock;
  }

  /**
   * The sign-in form's failure handler: a right password that must be replaced goes to {@code
   * /login/password}; every other failure back to the form with its reason.
   */
  public AuthenticationFailureHandler failureHandler() {
    AuthenticationFailureHandler toErrorPage = toErrorPage();
    return (HttpServletRequest request,
        HttpServletResponse response,
        AuthenticationException e) -> {
      if (e instanceof CredentialsExpiredException) {
        String user = Accounts.canonical(request.getParameter("username")).orElse(null);
        if (user != null) {
          request.getSession().setAttribute(MUST_CHANGE, new MustChange(user, clock.instant()));
          response.sendRedirect("/login/password");
          return;
        }
      }
      toErrorPage.onAuthenticationFailure(request, response, e);
    };
  }

  /**
   * Sends a failed sign-in back to {@code /login?error}, with what the page says kept in the
   * session. Not the exception itself: Spring Security attaches the attempt to it ({@code
   * getAuthenticationRequest}), and the session is a database row or a Redis key. A failed password
   * sign-in's attempt holds the password as typed, a failed upstream sign-in's the upstream client
   * registration with its secret; both were stored there until the session expired (and in every
   * backup and replica of it). The page needs only the kind of failure and its message.
   */
  public static AuthenticationFailureHandler toErrorPage() {
    SimpleUrlAuthenticationFailureHandler page = new SimpleUrlAuthenticationFailureHandler();
    page.setDefaultFailureUrl("/login?error");
    return (request, response, e) -> page.onAuthenticationFailure(request, response, forPage(e));
  }

  /** A new exception of the kind the sign-in page tells apart, with nothing attached. */
  static AuthenticationException forPage(AuthenticationException e) {
    if (e instanceof io.yinxin.sso.account.LoginThrottle.ThrottledException t) {
      return t.withoutRequest();
    }
    if (e instanceof org.springframework.security.oauth2.core.OAuth2AuthenticationException o) {
      return new org.springframework.security.oauth2.core.OAuth2AuthenticationException(
          new org.springframework.security.oauth2.core.OAuth2Error(o.getError().getErrorCode()));
    }
    return new org.springframework.security.authentication.BadCredentialsException(
        "wrong username or password");
  }

  private String mustChange(HttpServletRequest request) {
    HttpSession s = request.getSession(false);
    if (s == null || !(s.getAttribute(MUST_CHANGE) instanceof MustChange m)) {
      return null;
    }
    if (m.at().plus(PENDING).isBefore(clock.instant())) {
      s.removeAttribute(MUST_CHANGE);
      return null;
    }
    return m.username();
  }

  @GetMapping(path = "/login/password", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> newPasswordPage(
      HttpServletRequest request, @RequestParam(value = "lang", required = false) String lang) {
    boolean zh = Pages.chinese(lang, request);
    if (mustChange(request) == null) {
      return redirect("/login");
    }
    return newPasswordForm(zh, request, null);
  }

  @PostMapping(path = "/login/password", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> newPassword(
      HttpServletRequest request,
      @RequestParam(value = "lang", required = false) String lang,
      @RequestParam(value = "password", required = false) String password,
      @RequestParam(value = "repeat", required = false) String repeat) {
    boolean zh = Pages.chinese(lang, request);
    String user = mustChange(request);
    if (user == null) {
      return redirect("/login");
    }
    String problem = problem(zh, user, password, repeat);
    if (problem == null && accounts.isCurrentPassword(user, password)) {
      // The one-time password again: whoever handed it out would know the account's password.
      problem = io.yinxin.sso.account.PasswordRules.Problem.SAME.message(zh);
    }
    if (problem != null) {
      return newPasswordForm(zh, request, problem);
    }
    accounts.setPassword(user, password);
    request.getSession().removeAttribute(MUST_CHANGE);
    sessions.endOthers(user, request.getSession().getId());
    changed(user, "password_replaced");
    return redirect("/login?changed");
  }

  private ResponseEntity<String> newPasswordForm(
      boolean zh, HttpServletRequest request, String message) {
    String form =
        "<p>"
            + (zh
                ? "这是一次性密码，请先设置您自己的新密码，然后用它登录。"
                : "That was a one-time password. Choose your own new password, then sign in with"
                    + " it.")
            + "</p>\n<form method=\"post\" action=\"/login/password\">\n"
            + newPasswordFields(zh)
            + Pages.csrf(request)
            + "<button type=\"submit\">"
            + (zh ? "设置新密码" : "Set new password")
            + "</button>\n</form>\n";
    return Pages.page(zh, "/login/password", zh ? "设置新密码" : "Set a new password", message, form);
  }

  private static String newPasswordFields(boolean zh) {
    return "<label for=\"password\">"
        + (zh
            ? "新密码（至少 12 个字符，不含用户名，不是常见密码或 123456… 之类；几个不相关的词连在一起就很好）"
            : "New password (at least 12 characters, without the username, not a common password"
                + " or anything like 123456…; a few unrelated words together work well)")
        + "</label><input id=\"password\" name=\"password\" type=\"password\""
        + " autocomplete=\"new-password\" minlength=\"12\" maxlength=\"200\" required>\n"
        + "<label for=\"repeat\">"
        + (zh ? "再次输入新密码" : "New password again")
        + "</label><input id=\"repeat\" name=\"repeat\" type=\"password\""
        + " autocomplete=\"new-password\" minlength=\"12\" maxlength=\"200\" required>\n";
  }

  private String problem(boolean zh, String username, String password, String repeat) {
    var p = accounts.problemWith(username, password);
    if (p.isPresent()) {
      return p.get().message(zh);
    }
    if (!password.equals(repeat)) {
      return zh ? "两次输入的新密码不一致。" : "The two new passwords differ.";
    }
    return null;
  }

  @GetMapping(path = "/account", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> account(
      HttpServletRequest request,
      Authentication user,
      @RequestParam(value = "lang", required = false) String lang) {
    return page(Pages.chinese(lang, request), request, user.getName(), null);
  }

  @PostMapping(path = "/account/password", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> changePassword(
      HttpServletRequest request,
      Authentication user,
      @RequestParam(value = "lang", required = false) String lang,
      @RequestParam(value = "current", required = false) String current,
      @RequestParam(value = "password", required = false) String password,
      @RequestParam(value = "repeat", required = false) String repeat) {
    boolean zh = Pages.chinese(lang, request);
    // Forgotten: replaced without the current one after a recent strong sign-in.
    boolean replace =
        (current == null || current.isEmpty())
            && mayReplacePassword(user, replaceWithin, clock.instant());
    String problem = problem(zh, user.getName(), password, repeat);
    if (problem == null
        && current != null
        && io.yinxin.sso.account.PasswordRules.normalized(current)
            .equals(io.yinxin.sso.account.PasswordRules.normalized(password))) {
      problem = io.yinxin.sso.account.PasswordRules.Problem.SAME.message(zh);
    }
    if (problem == null && replace) {
      accounts.setPassword(user.getName(), password);
      throttle.unblock(user.getName()); // the person's own failed attempts, as an operator's reset
    } else if (problem == null && !accounts.changePassword(user.getName(), current, password)) {
      problem = zh ? "当前密码不正确。" : "The current password is not right.";
    }
    if (problem != null) {
      return status(HttpStatus.BAD_REQUEST, page(zh, request, user.getName(), problem));
    }
    int ended = sessions.endOthers(user.getName(), request.getSession().getId());
    changed(user.getName(), replace ? "password_replaced" : "password_changed");
    return page(
        zh,
        request,
        user.getName(),
        zh
            ? "密码已修改；其他 " + ended + " 个会话已退出。"
            : "Password changed; " + ended + " other session(s) signed out.");
  }

  /**
   * Whether a session may set a new password without the current one: it signed in with a citizen
   * certificate or a passkey no longer than {@code within} ago. A forgotten password is replaced
   * after signing in with another authenticator at least as strong, as NIST SP 800-63B §6.1.2.3 has
   * it; a password sign-in, with or without its second step, needs the current password, and a
   * sign-in through an upstream provider too (its strength is the upstream's).
   */
  static boolean mayReplacePassword(Authentication user, Duration within, Instant now) {
    if (user == null) {
      return false;
    }
    for (org.springframework.security.core.GrantedAuthority g : user.getAuthorities()) {
      if (g instanceof org.springframework.security.core.authority.FactorGrantedAuthority f
          && f.getIssuedAt() != null
          && (io.yinxin.sso.certificate.CertificateLogin.X509_AUTHORITY.equals(f.getAuthority())
              || org.springframework.security.core.authority.FactorGrantedAuthority
                  .WEBAUTHN_AUTHORITY
                  .equals(f.getAuthority()))
          && !f.getIssuedAt().plus(within).isBefore(now)
          && !f.getIssuedAt().isAfter(now.plus(within))) {
        return true;
      }
    }
    return false;
  }

  @PostMapping(path = "/account/sessions", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> endOtherSessions(
      HttpServletRequest request,
      Authentication user,
      @RequestParam(value = "lang", required = false) String lang) {
    boolean zh = Pages.chinese(lang, request);
    int ended = sessions.endOthers(user.getName(), request.getSession().getId());
    audit.append(
        AuditEvent.of(
            EventType.LOGGED_OUT,
            user.getName(),
            user.getName(),
            Map.of("scope", "other_sessions", "sessions", Integer.toString(ended))));
    return page(
        zh,
        request,
        user.getName(),
        zh ? "其他 " + ended + " 个会话已退出。" : ended + " other session(s) signed out.");
  }

  /** Takes a portal's access away: its consent and its tokens ({@link ConnectedApps}). */
  @PostMapping(path = "/account/apps", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> revokeApp(
      HttpServletRequest request,
      Authentication user,
      @RequestParam(value = "lang", required = false) String lang,
      @RequestParam(value = "client_id", required = false) String clientId) {
    boolean zh = Pages.chinese(lang, request);
    if (!apps.revoke(user.getName(), clientId, outbox)) {
      return status(
          HttpStatus.BAD_REQUEST,
          page(
              zh,
              request,
              user.getName(),
              zh ? "该应用没有访问您账户的权限。" : "That app has no access to your account."));
    }
    return page(
        zh,
        request,
        user.getName(),
        zh
            ? "已撤销该应用的访问权限；它需要再次征得您的同意。"
            : "The app's access is removed; it must ask for your consent again.");
  }

  private void changed(String username, String change) {
    audit.append(
        AuditEvent.of(
            EventType.CONFIG_CHANGED, username, "account/" + username, Map.of("change", change)));
  }

  private ResponseEntity<String> page(
      boolean zh, HttpServletRequest request, String username, String message) {
    StringBuilder h = new StringBuilder(4096);
    h.append("<p>")
        .append(Pages.esc((zh ? "用户名：" : "Username: ") + username))
        .append(accounts.displayName(username).map(n -> " · " + Pages.esc(n)).orElse(""))
        .append("</p>\n<h2>")
        .append(zh ? "实名信息" : "Real-name identity")
        .append("</h2>\n<p>");
    var real = realNames.masked(username);
    if (real.isPresent()) {
      h.append(Pages.esc(real.get().name()));
      real.get().idNumber().ifPresent(n -> h.append(" · ").append(Pages.esc(n)));
      h.append(" · ")
          .append(
              switch (real.get().verification()) {
                case SELF_DECLARED -> zh ? "本人声明" : "self-declared";
                case CERTIFICATE -> zh ? "数字证书核验" : "verified by certificate";
                case FEDERATION -> zh ? "上游身份提供方核验" : "verified by an upstream provider";
              });
    } else {
      h.append(zh ? "尚未实名。" : "Not verified yet.");
    }
    h.append("</p>\n");
    if (!upstreams.isEmpty()) {
      // Linked by the verified ID number: whoever the upstream vouches for with it is this account.
      h.append("<h2>")
          .append(zh ? "关联身份" : "Linked identities")
          .append("</h2>\n<p>")
          .append(
              real.flatMap(RealNames.Masked::idNumber).isPresent()
                  ? (zh
                      ? "您也可以通过以下身份提供方登录（按实名身份证号关联）："
                      : "You can also sign in through these providers (linked by your verified ID"
                          + " number):")
                  : (zh
                      ? "完成实名后，可通过以下身份提供方登录："
                      : "Once your identity is verified you can sign in through:"))
          .append("</p>\n<ul>\n");
      for (var u : upstreams.all()) {
        h.append("<li>").append(Pages.esc(u.name() == null ? u.id() : u.name())).append("</li>\n");
      }
      h.append("</ul>\n");
    }
    h.append("<h2>")
        .append(zh ? "两步验证" : "Two-step verification")
        .append("</h2>\n<p>")
        .append(
            factors.hasTotp(username)
                ? (zh ? "已开启（身份验证器）。" : "On (authenticator app).")
                : (zh ? "未开启。" : "Off."))
        .append(" <a href=\"/account/totp\">")
        .append(zh ? "设置身份验证器" : "Set up an authenticator app")
        .append("</a>")
        .append(
            passkeys
                ? " · <a href=\"/webauthn/register\">" + (zh ? "通行密钥" : "Passkeys") + "</a>"
                : "")
        .append("</p>\n<h2>")
        .append(zh ? "修改密码" : "Change password")
        .append("</h2>\n");
    boolean replaceable =
        mayReplacePassword(
            org.springframework.security.core.context.SecurityContextHolder.getContext()
                .getAuthentication(),
            replaceWithin,
            clock.instant());
    if (replaceable) {
      h.append("<p id=\"replace\">")
          .append(
              zh
                  ? "您刚用数字证书或通行密钥登录：忘记了当前密码时可以不填，直接设置新密码。"
                  : "You signed in with a certificate or a passkey just now: if you forgot your"
                      + " current password, leave it empty and set a new one.")
          .append("</p>\n");
    }
    h.append("<form method=\"post\" action=\"/account/password\">\n<label for=\"current\">")
        .append(
            zh
                ? (replaceable ? "当前密码（可不填）" : "当前密码")
                : (replaceable ? "Current password (optional)" : "Current password"))
        .append(
            "</label><input id=\"current\" name=\"current\" type=\"password\""
                + " autocomplete=\"current-password\""
                + (replaceable ? "" : " required")
                + ">\n")
        .append(newPasswordFields(zh))
        .append(Pages.csrf(request))
        .append("<button type=\"submit\">")
        .append(zh ? "修改密码" : "Change password")
        .append("</button>\n</form>\n<h2>")
        .append(zh ? "登录中的会话" : "Signed-in sessions")
        .append("</h2>\n<table>\n<caption>")
        .append(zh ? "以您的账户登录的浏览器会话" : "Browser sessions signed in as you")
        .append("</caption>\n<tr><th scope=\"col\">")
        .append(zh ? "开始" : "Started")
        .append("</th><th scope=\"col\">")
        .append(zh ? "最近使用" : "Last used")
        .append("</th><th scope=\"col\"></th></tr>\n");
    String current = request.getSession().getId();
    for (SsoSessions.SessionInfo s : sessions.of(username)) {
      h.append("<tr><td>")
          .append(TIME.format(s.created()))
          .append("</td><td>")
          .append(TIME.format(s.lastUsed()))
          .append("</td><td>")
          .append(s.id().equals(current) ? (zh ? "当前会话" : "this session") : "")
          .append("</td></tr>\n");
    }
    h.append("</table>\n<form method=\"post\" action=\"/account/sessions\">\n")
        .append(Pages.csrf(request))
        .append("<button type=\"submit\">")
        .append(zh ? "退出其他所有会话" : "Sign out all other sessions")
        .append("</button>\n</form>\n");
    appsTable(zh, request, username, h);
    h.append("<h2>")
        .append(zh ? "最近登录" : "Recent sign-ins")
        .append("</h2>\n<table>\n<caption>")
        .append(zh ? "最近 10 次登录尝试" : "The last 10 sign-in attempts")
        .append("</caption>\n<tr><th scope=\"col\">")
        .append(zh ? "时间" : "Time")
        .append("</th><th scope=\"col\">")
        .append(zh ? "方式" : "Method")
        .append("</th><th scope=\"col\">")
        .append(zh ? "结果" : "Result")
        .append("</th><th scope=\"col\">")
        .append(zh ? "来源地址" : "From")
        .append("</th></tr>\n");
    for (SignIns.SignIn s : signIns.recent(username, 10)) {
      h.append("<tr><td>")
          .append(TIME.format(s.at()))
          .append("</td><td>")
          .append(Pages.esc(s.method()))
          .append("</td><td>")
          .append(Pages.esc(s.result()))
          .append("</td><td>")
          .append(Pages.esc(s.source() == null ? "" : s.source()))
          .append("</td></tr>\n");
    }
    h.append("</table>\n<form method=\"post\" action=\"/logout\">\n")
        .append(Pages.csrf(request))
        .append("<button type=\"submit\">")
        .append(zh ? "退出登录" : "Sign out")
        .append("</button>\n</form>\n");
    return Pages.page(zh, "/account", zh ? "我的账户" : "My account", message, h.toString());
  }

  /** The portals with access to the account, each with a button that takes it away. */
  private void appsTable(boolean zh, HttpServletRequest request, String username, StringBuilder h) {
    h.append("<h2>").append(zh ? "已授权的应用" : "Apps with access").append("</h2>\n");
    List<io.yinxin.sso.account.ConnectedApps.App> list = apps.of(username);
    if (list.isEmpty()) {
      h.append("<p>").append(zh ? "没有应用可以访问您的账户。" : "No app has access to your account.");
      h.append("</p>\n");
      return;
    }
    h.append("<table>\n<caption>")
        .append(zh ? "您允许访问账户的应用" : "Apps you have let in")
        .append("</caption>\n<tr><th scope=\"col\">")
        .append(zh ? "应用" : "App")
        .append("</th><th scope=\"col\">")
        .append(zh ? "同意的范围" : "Consented to")
        .append("</th><th scope=\"col\"></th></tr>\n");
    for (var app : list) {
      h.append("<tr><td>")
          .append(Pages.esc(app.name()))
          .append("</td><td>")
          .append(Pages.esc(app.scopes().isEmpty() ? "—" : String.join(" ", app.scopes())))
          .append("</td><td><form method=\"post\" action=\"/account/apps\">")
          .append("<input type=\"hidden\" name=\"client_id\" value=\"")
          .append(Pages.esc(app.clientId()))
          .append("\">")
          .append(Pages.csrf(request))
          .append("<button type=\"submit\">")
          .append(zh ? "撤销访问" : "Remove access")
          .append("</button></form></td></tr>\n");
    }
    h.append("</table>\n");
  }

  private static ResponseEntity<String> status(HttpStatus status, ResponseEntity<String> page) {
    return ResponseEntity.status(status).headers(page.getHeaders()).body(page.getBody());
  }

  private static ResponseEntity<String> redirect(String location) {
    return ResponseEntity.status(HttpStatus.FOUND).header("Location", location).build();
  }
}
