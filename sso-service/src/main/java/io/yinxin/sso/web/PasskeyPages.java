package io.yinxin.sso.web;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.security.web.webauthn.api.CredentialRecord;
import org.springframework.security.web.webauthn.api.PublicKeyCredentialUserEntity;
import org.springframework.security.web.webauthn.management.PublicKeyCredentialUserEntityRepository;
import org.springframework.security.web.webauthn.management.UserCredentialRepository;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Passkeys (WebAuthn) in Chinese and English: {@code /webauthn/register} lists the account's
 * passkeys and adds one (Spring Security's ceremony script, served here from its jar at {@code
 * /login/webauthn.js}: no asset from another host), and the sign-in page's passkey button. The
 * ceremonies themselves are Spring Security's WebAuthn endpoints.
 */
@RestController
public class PasskeyPages {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneId.systemDefault());

  private final boolean enabled;
  private final PublicKeyCredentialUserEntityRepository users;
  private final UserCredentialRepository passkeys;

  public PasskeyPages(
      boolean enabled,
      PublicKeyCredentialUserEntityRepository users,
      UserCredentialRepository passkeys) {
    this.enabled = enabled;
    this.users = users;
    this.passkeys = passkeys;
  }

  /** The sign-in page's passkey button and its script. */
  static String signInButton(boolean zh, HttpServletRequest request) {
    return "<p><button type=\"button\" id=\"passkey-signin\">"
        + (zh ? "使用通行密钥登录" : "Sign in with a passkey")
        + "</button></p>\n<script src=\"/login/webauthn.js\"></script>\n<script>\n"
        + "window.addEventListener('load', function () { setupLogin("
        + headers(request)
        + ", '', document.getElementById('passkey-signin')); });\n</script>\n";
  }

  private static String headers(HttpServletRequest request) {
    CsrfToken csrf = (CsrfToken) request.getAttribute(CsrfToken.class.getName());
    if (csrf == null) {
      return "{}";
    }
    return "{'" + Pages.esc(csrf.getHeaderName()) + "': '" + Pages.esc(csrf.getToken()) + "'}";
  }

  /** Spring Security's WebAuthn ceremony script, from its jar. */
  @GetMapping(path = "/login/webauthn.js", produces = "text/javascript")
  public ResponseEntity<byte[]> script() throws IOException {
    if (!enabled) {
      return ResponseEntity.notFound().build();
    }
    try (InputStream in =
        CsrfToken.class
            .getClassLoader()
            .getResourceAsStream("org/springframework/security/spring-security-webauthn.js")) {
      if (in == null) {
        return ResponseEntity.notFound().build();
      }
      return ResponseEntity.ok()
          .contentType(new MediaType("text", "javascript"))
          .header("Cache-Control", "max-age=3600")
          .body(in.readAllBytes());
    }
  }

  @GetMapping(path = "/webauthn/register", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> register(
      HttpServletRequest request,
      Authentication user,
      @RequestParam(value = "lang", required = false) String lang) {
    if (!enabled) {
      return ResponseEntity.status(HttpStatus.NOT_FOUND).build();
    }
    boolean zh = Pages.chinese(lang, request);
    StringBuilder h = new StringBuilder(2048);
    h.append("<p id=\"success\" role=\"status\" style=\"display:none\">")
        .append(zh ? "通行密钥已保存。" : "Your passkey is saved.")
        .append("</p>\n<p id=\"error\" class=\"msg\" role=\"alert\" style=\"display:none\"></p>\n")
        .append("<table>\n<caption>")
        .append(zh ? "您的通行密钥" : "Your passkeys")
        .append("</caption>\n<tr><th scope=\"col\">")
        .append(zh ? "名称" : "Name")
        .append("</th><th scope=\"col\">")
        .append(zh ? "添加于" : "Added")
        .append("</th><th scope=\"col\"></th></tr>\n");
    PublicKeyCredentialUserEntity entity = users.findByUsername(user.getName());
    if (entity != null) {
      for (CredentialRecord c : passkeys.findByUserId(entity.getId())) {
        String id = c.getCredentialId().toBase64UrlString();
        h.append("<tr><td class=\"passkey\">")
            .append(Pages.esc(c.getLabel()))
            .append("</td><td>")
            .append(c.getCreated() == null ? "" : TIME.format(c.getCreated()))
            .append(
                "</td><td><form class=\"delete-form\" method=\"post\" action=\"/webauthn/register/")
            .append(Pages.esc(id))
            .append("\"><button type=\"submit\">")
            .append(zh ? "删除" : "Delete")
            .append("</button></form></td></tr>\n");
      }
    }
    h.append("</table>\n<label for=\"label\">")
        .append(zh ? "新通行密钥的名称（例如“我的手机”）" : "A name for the new passkey (e.g. \"my phone\")")
        .append("</label><input id=\"label\" name=\"label\" maxlength=\"100\" required>\n")
        .append("<button type=\"button\" id=\"register\">")
        .append(zh ? "添加通行密钥" : "Add a passkey")
        .append("</button>\n<p><a href=\"/account\">")
        .append(zh ? "返回我的账户" : "Back to my account")
        .append("</a></p>\n<script src=\"/login/webauthn.js\"></script>\n<script>\n")
        .append("window.addEventListener('load', function () { setupRegistration(")
        .append(headers(request))
        .append(", '', {\n")
        .append(
            " getRegisterButton: function () { return document.getElementById('register'); },\n")
        .append(" getSuccess: function () { return document.getElementById('success'); },\n")
        .append(" getError: function () { return document.getElementById('error'); },\n")
        .append(" getLabelInput: function () { return document.getElementById('label'); },\n")
        .append(
            " getDeleteForms: function () { return Array.from("
                + "document.getElementsByClassName('delete-form')); }\n")
        .append("}); });\n</script>\n");
    return Pages.page(zh, "/webauthn/register", zh ? "通行密钥" : "Passkeys", null, h.toString());
  }
}
