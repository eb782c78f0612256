package io.yinxin.sso.web;

import io.nayuki.qrcodegen.QrCode;
import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.sso.account.SecondFactorLogin;
import io.yinxin.sso.account.SecondFactors;
import io.yinxin.sso.account.Totp;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The second-factor pages, in Chinese and English: {@code /login/otp} (the code after the password)
 * and {@code /account/totp} (enrolment: a QR code drawn as inline SVG, the secret in base32 for
 * typing, a code to confirm, then the recovery codes, shown once).
 */
@RestController
public class SecondFactorPages {
  private static final String ENROL = SecondFactorPages.class.getName() + ".enrol";
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss xxx").withZone(ZoneId.systemDefault());

  private final SecondFactorLogin login;
  private final SecondFactors factors;
  private final AuditLog audit;
  private final String issuerName;

  public SecondFactorPages(
      SecondFactorLogin login, SecondFactors factors, AuditLog audit, String issuerName) {
    this.login = login;
    this.factors = factors;
    this.audit = audit;
    this.issuerName = issuerName;
  }

  @GetMapping(path = "/login/otp", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> otpPage(
      HttpServletRequest request, @RequestParam(value = "lang", required = false) String lang) {
    boolean zh = Pages.chinese(lang, request);
    if (login.pending(request).isEmpty()) {
      return redirect("/login");
    }
    return otpForm(zh, request, null);
  }

  @PostMapping(path = "/login/otp", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> otp(
      HttpServletRequest request,
      HttpServletResponse response,
      @RequestParam(value = "lang", required = false) String lang,
      @RequestParam(value = "code", required = false) String code)
      throws IOException, jakarta.servlet.ServletException {
    boolean zh = Pages.chinese(lang, request);
    Optional<String> who = login.pending(request);
    SecondFactorLogin.Result r = login.complete(request, response, code);
    return switch (r) {
      case SIGNED_IN -> null; // the response is the redirect already
      case NO_PENDING_SIGN_IN -> redirect("/login");
      case WRONG_CODE ->
          otpForm(zh, request, zh ? "验证码不正确，请重试。" : "That code is not right. Try again.");
      case THROTTLED -> {
        String until =
            who.flatMap(login::blockedUntil).map(TIME::format).orElse(zh ? "稍后" : "later");
        yield otpForm(
            zh,
            request,
            zh
                ? "错误次数过多，请于 " + until + " 之后再试。"
                : "Too many wrong codes. Try again after " + until + ".");
      }
    };
  }

  private ResponseEntity<String> otpForm(boolean zh, HttpServletRequest request, String message) {
    String form =
        "<form method=\"post\" action=\"/login/otp\">\n<label for=\"code\">"
            + (zh
                ? "身份验证器中的 6 位验证码（或一个恢复码）"
                : "The 6-digit code from your authenticator app (or a recovery code)")
            + "</label><input id=\"code\" name=\"code\" autocomplete=\"one-time-code\""
            + " inputmode=\"numeric\" required autofocus maxlength=\"20\">\n"
            + Pages.csrf(request)
            + "<button type=\"submit\">"
            + (zh ? "验证" : "Verify")
            + "</button>\n</form>\n";
    return Pages.page(zh, "/login/otp", zh ? "两步验证" : "Two-step verification", message, form);
  }

  @GetMapping(path = "/account/totp", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> enrolPage(
      HttpServletRequest request,
      Authentication user,
      @RequestParam(value = "lang", required = false) String lang) {
    boolean zh = Pages.chinese(lang, request);
    byte[] secret = SecondFactors.newSecret();
    request.getSession().setAttribute(ENROL, secret);
    return enrolForm(
        zh,
        request,
        user.getName(),
        secret,
        login.mustEnrol(request)
            ? (zh
                ? "您的账户须开启两步验证：请先设置身份验证器，然后继续。"
                : "Your account needs two-step verification: set up an authenticator app to go on.")
            : null);
  }

  @PostMapping(path = "/account/totp", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> enrol(
      HttpServletRequest request,
      HttpServletResponse response,
      Authentication user,
      @RequestParam(value = "lang", required = false) String lang,
      @RequestParam(value = "code", required = false) String code) {
    boolean zh = Pages.chinese(lang, request);
    HttpSession session = request.getSession();
    if (!(session.getAttribute(ENROL) instanceof byte[] secret)) {
      return redirect("/account/totp");
    }
    List<String> recovery = factors.enrol(user.getName(), secret, code == null ? "" : code.strip());
    if (recovery.isEmpty()) {
      return enrolForm(
          zh,
          request,
          user.getName(),
          secret,
          zh ? "验证码不正确，请重试。" : "That code is not right. Try again.");
    }
    session.removeAttribute(ENROL);
    audit.append(
        AuditEvent.of(
            EventType.CONFIG_CHANGED,
            user.getName(),
            "account/" + user.getName(),
            Map.of("change", "totp_enrolled")));
    StringBuilder content = new StringBuilder();
    content
        .append("<p>")
        .append(
            zh
                ? "两步验证已开启。请把下面的恢复码保存在安全的地方：每个只能用一次，本页关闭后不再显示。"
                : "Two-step verification is on. Keep these recovery codes somewhere safe: each works"
                    + " once, and they are not shown again.")
        .append("</p>\n<ul id=\"recovery-codes\">\n");
    for (String rc : recovery) {
      content.append("<li><code>").append(rc).append("</code></li>\n");
    }
    content.append("</ul>\n");
    // A sign-in that had to set this up first is complete now: on to where it was going.
    login
        .enrolled(request, response)
        .ifPresent(
            next ->
                content
                    .append("<p><a id=\"continue\" href=\"")
                    .append(Pages.esc(next))
                    .append("\">")
                    .append(zh ? "我已保存恢复码，继续" : "I have saved the recovery codes: go on")
                    .append("</a></p>\n"));
    return Pages.page(
        zh, "/account/totp", zh ? "两步验证" : "Two-step verification", null, content.toString());
  }

  private ResponseEntity<String> enrolForm(
      boolean zh, HttpServletRequest request, String username, byte[] secret, String message) {
    String uri = Totp.otpauthUri(issuerName, username, secret);
    String base32 = Totp.base32(secret);
    StringBuilder grouped = new StringBuilder();
    for (int i = 0; i < base32.length(); i += 4) {
      grouped.append(i == 0 ? "" : " ").append(base32, i, Math.min(base32.length(), i + 4));
    }
    String content =
        "<p>"
            + (zh
                ? "用身份验证器应用扫描二维码，或手动输入密钥，然后输入应用显示的验证码。"
                : "Scan the QR code with an authenticator app, or type the key, then enter the code"
                    + " the app shows.")
            + "</p>\n"
            + qrSvg(uri, zh ? "身份验证器二维码" : "Authenticator QR code")
            + "\n<p>"
            + (zh ? "密钥：" : "Key: ")
            + "<code id=\"totp-secret\">"
            + grouped
            + "</code></p>\n<form method=\"post\" action=\"/account/totp\">\n<label for=\"code\">"
            + (zh ? "6 位验证码" : "6-digit code")
            + "</label><input id=\"code\" name=\"code\" autocomplete=\"one-time-code\""
            + " inputmode=\"numeric\" required maxlength=\"6\">\n"
            + Pages.csrf(request)
            + "<button type=\"submit\">"
            + (zh ? "开启两步验证" : "Turn on two-step verification")
            + "</button>\n</form>\n";
    return Pages.page(zh, "/account/totp", zh ? "两步验证" : "Two-step verification", message, content);
  }

  /** A QR code as inline SVG: one path of dark modules, a 4-module quiet zone, labelled. */
  static String qrSvg(String text, String label) {
    QrCode qr = QrCode.encodeText(text, QrCode.Ecc.MEDIUM);
    int size = qr.size + 8;
    StringBuilder path = new StringBuilder();
    for (int y = 0; y < qr.size; y++) {
      for (int x = 0; x < qr.size; x++) {
        if (qr.getModule(x, y)) {
          path.append('M').append(x + 4).append(',').append(y + 4).append("h1v1h-1z");
        }
      }
    }
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\""
        + Pages.esc(label)
        + "\" width=\"240\" height=\"240\" viewBox=\"0 0 "
        + size
        + " "
        + size
        + "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
        + "<path d=\""
        + path
        + "\" fill=\"#000\"/></svg>";
  }

  private static ResponseEntity<String> redirect(String to) {
    return ResponseEntity.status(302).header("Location", to).build();
  }
}
