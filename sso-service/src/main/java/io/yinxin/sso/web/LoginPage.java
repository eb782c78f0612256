package io.yinxin.sso.web;

import io.yinxin.sso.account.LoginThrottle;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.WebAttributes;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The sign-in page in Chinese (the default) or English: {@code ?lang=zh|en}, else the browser's
 * Accept-Language. Plain HTML with no script or asset from another host, labelled fields, the CSRF
 * token of the form, and the reason of a failed attempt, including when a throttled account may try
 * again. The form posts to {@code /login}, where Spring Security checks it.
 */
@RestController
public class LoginPage {
  private final int certificatePort;
  private final java.util.Map<String, String> upstreams;

  /**
   * @param certificatePort the HTTPS port of citizen certificate sign-in, offered on the page; 0
   *     for none
   * @param upstreams the upstream providers one may sign in through, id to name
   */
  private final boolean passkeys;

  /** How long after a certificate or passkey sign-in a forgotten password may be replaced. */
  private final java.time.Duration replaceWithin;

  public LoginPage(
      int certificatePort,
      java.util.Map<String, String> upstreams,
      boolean passkeys,
      java.time.Duration replaceWithin) {
    this.replaceWithin = replaceWithin;
    this.certificatePort = certificatePort;
    this.upstreams = java.util.Map.copyOf(upstreams);
    this.passkeys = passkeys;
  }

  @GetMapping(path = "/login", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> login(
      HttpServletRequest request,
      @RequestParam(value = "lang", required = false) String lang,
      @RequestParam(value = "error", required = false) String error,
      @RequestParam(value = "logout", required = false) String logout,
      @RequestParam(value = "changed", required = false) String changed,
      @RequestParam(value = "reauth", required = false) String reauth,
      @RequestParam(value = "stepup", required = false) String stepUp) {
    boolean zh = Pages.chinese(lang, request);
    String message = null;
    if (error != null) {
      HttpSession session = request.getSession(false);
      Object ex =
          session == null ? null : session.getAttribute(WebAttributes.AUTHENTICATION_EXCEPTION);
      if (ex instanceof LoginThrottle.ThrottledException t) {
        message = t.getMessage();
      } else if (ex
          instanceof org.springframework.security.oauth2.core.OAuth2AuthenticationException o) {
        message =
            "no_linked_account".equals(o.getError().getErrorCode())
                ? (zh
                    ? "该身份提供方确认的身份在这里没有对应的实名账户。"
                    : "No verified account here belongs to the identity that provider confirmed.")
                : (zh ? "通过该身份提供方登录失败。" : "Signing in through that provider failed.");
      } else if (ex instanceof AuthenticationException) {
        message = zh ? "用户名或密码错误。" : "Wrong username or password.";
      }
    } else if (logout != null) {
      message = zh ? "您已退出登录。" : "You have signed out.";
    } else if (changed != null) {
      message = zh ? "新密码已设置，请用它登录。" : "Your new password is set. Sign in with it.";
    } else if (reauth != null) {
      // RecentSignIn: a change to how this account signs in needs a recent sign-in.
      message =
          zh
              ? "更改登录方式前，请重新登录以确认是您本人。"
              : "Sign in again to confirm it is you before you change how you sign in.";
    } else if (stepUp != null) {
      // FreshSignIn: a portal asked for two factors (acr_values urn:yinxin:loa:2).
      message =
          zh
              ? "该服务要求两步验证：请用密码和身份验证器（未设置的将引导设置）或通行密钥登录。"
              : "This service asks for two-step verification: sign in with your password and"
                  + " authenticator app (you will be shown how to set one up if you have none),"
                  + " or with a passkey.";
    }
    String form =
        "<form method=\"post\" action=\"/login\">\n<label for=\"username\">"
            + (zh ? "用户名" : "Username")
            + "</label><input id=\"username\" name=\"username\" autocomplete=\"username\""
            // The authorization request's login_hint, when it is a username (a-z 0-9 . _ @ -).
            + io.yinxin.sso.token.SignInHints.username(request)
                .map(u -> " value=\"" + u + "\"")
                .orElse("")
            + " required autofocus>\n<label for=\"password\">"
            + (zh ? "密码" : "Password")
            + "</label><input id=\"password\" name=\"password\" type=\"password\""
            + " autocomplete=\"current-password\" required>\n"
            + Pages.csrf(request)
            + "<button type=\"submit\">"
            + (zh ? "登录" : "Sign in")
            + "</button>\n</form>\n<p><a id=\"forgot\" href=\"/login/forgot\">"
            + (zh ? "忘记密码？" : "Forgot your password?")
            + "</a></p>\n"
            + certificateLink(zh, request)
            + upstreamLinks(zh)
            + (passkeys ? PasskeyPages.signInButton(zh, request) : "");
    return Pages.page(zh, "/login", zh ? "登录" : "Sign in", message, form);
  }

  /**
   * What a person who forgot their password can do: sign in with a certificate or a passkey and set
   * a new one on the account page without the current one ({@link AccountPages}), or ask an
   * operator for a one-time password. No reset by e-mail or text message: an account holds no
   * address to send one to that this node has checked.
   */
  @GetMapping(path = "/login/forgot", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> forgot(
      HttpServletRequest request, @RequestParam(value = "lang", required = false) String lang) {
    boolean zh = Pages.chinese(lang, request);
    long minutes = Math.max(1, replaceWithin.toMinutes());
    StringBuilder b = new StringBuilder(1024);
    if (certificatePort > 0 || passkeys) {
      b.append("<p>")
          .append(
              zh
                  ? "如果您的账户有通行密钥或数字证书：先用它登录，然后在“我的账户”页面设置新密码，"
                      + "无需填写当前密码（登录后 "
                      + minutes
                      + " 分钟内）。"
                  : "If your account has a passkey or a citizen certificate: sign in with it, then"
                      + " set a new password on your account page without the current one (within "
                      + minutes
                      + " minutes of signing in).")
          .append("</p>\n");
      b.append(certificateLink(zh, request));
    }
    boolean strong = b.length() > 0; // a way of one's own was described above
    b.append("<p>")
        .append(
            zh
                ? (strong ? "否则请" : "请") + "联系服务台：管理员核实您的身份后给您一个一次性密码，首次登录时改成您自己的密码。"
                : (strong ? "Otherwise ask" : "Ask")
                    + " the service desk: an administrator checks who you are and gives"
                    + " you a one-time password, which you replace with your own when you first"
                    + " sign in with it.")
        .append("</p>\n<p><a href=\"/login\">")
        .append(zh ? "返回登录" : "Back to sign-in")
        .append("</a></p>\n");
    return Pages.page(
        zh, "/login/forgot", zh ? "忘记密码" : "Forgot your password", null, b.toString());
  }

  /** The link to citizen certificate sign-in on its own port, or nothing when it is off. */
  private String certificateLink(boolean zh, HttpServletRequest request) {
    return certificatePort > 0
        ? "<p><a id=\"certificate-login\" href=\"https://"
            + Pages.esc(request.getServerName())
            + ":"
            + certificatePort
            + "/login/certificate\">"
            + (zh ? "使用数字证书登录" : "Sign in with a citizen certificate")
            + "</a></p>\n"
        : "";
  }

  private String upstreamLinks(boolean zh) {
    StringBuilder b = new StringBuilder();
    upstreams.forEach(
        (id, name) ->
            b.append("<p><a class=\"upstream\" href=\"/oauth2/authorization/")
                .append(Pages.esc(id))
                .append("\">")
                .append(Pages.esc((zh ? "通过 " : "Sign in with ") + name + (zh ? " 登录" : "")))
                .append("</a></p>\n"));
    return b.toString();
  }
}
