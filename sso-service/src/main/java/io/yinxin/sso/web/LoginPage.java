package io.yinxin.sso.web;

import io.yinxin.sso.account.LoginThrottle;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;
import java.util.Locale;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.WebAttributes;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.HtmlUtils;

/**
 * The sign-in page in Chinese (the default) or English: {@code ?lang=zh|en}, else the browser's
 * Accept-Language. Plain HTML with no script or asset from another host, labelled fields, the CSRF
 * token of the form, and the reason of a failed attempt, including when a throttled account may try
 * again. The form posts to {@code /login}, where Spring Security checks it.
 */
@RestController
public class LoginPage {

  @GetMapping(path = "/login", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> login(
      HttpServletRequest request,
      @RequestParam(value = "lang", required = false) String lang,
      @RequestParam(value = "error", required = false) String error,
      @RequestParam(value = "logout", required = false) String logout) {
    boolean zh = chinese(lang, request);
    String message = null;
    if (error != null) {
      HttpSession session = request.getSession(false);
      Object ex =
          session == null ? null : session.getAttribute(WebAttributes.AUTHENTICATION_EXCEPTION);
      if (ex instanceof LoginThrottle.ThrottledException t) {
        message = t.getMessage();
      } else if (ex instanceof AuthenticationException) {
        message = zh ? "用户名或密码错误。" : "Wrong username or password.";
      }
    } else if (logout != null) {
      message = zh ? "您已退出登录。" : "You have signed out.";
    }
    CsrfToken csrf = (CsrfToken) request.getAttribute(CsrfToken.class.getName());
    StringBuilder html = new StringBuilder(2048);
    html.append("<!DOCTYPE html>\n<html lang=\"")
        .append(zh ? "zh-CN" : "en")
        .append("\">\n<head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>")
        .append(zh ? "登录 · 印信" : "Sign in · Yinxin")
        .append("</title>")
        .append(
            "<style>body{font-family:sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}")
        .append(
            "label{display:block;margin-top:1rem}input{width:100%;padding:.5rem;font-size:1rem}")
        .append("button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}")
        .append(".msg{padding:.6rem;border:1px solid #b00;color:#b00;margin-top:1rem}</style>")
        .append("</head>\n<body>\n<main>\n<h1>")
        .append(zh ? "登录" : "Sign in")
        .append("</h1>\n<p><a href=\"/login?lang=")
        .append(zh ? "en\" lang=\"en\">English" : "zh\" lang=\"zh-CN\">中文")
        .append("</a></p>\n");
    if (message != null) {
      html.append("<div class=\"msg\" role=\"alert\">").append(esc(message)).append("</div>\n");
    }
    html.append("<form method=\"post\" action=\"/login\">\n")
        .append("<label for=\"username\">")
        .append(zh ? "用户名" : "Username")
        .append("</label>")
        .append(
            "<input id=\"username\" name=\"username\" autocomplete=\"username\" required"
                + " autofocus>\n")
        .append("<label for=\"password\">")
        .append(zh ? "密码" : "Password")
        .append("</label>")
        .append(
            "<input id=\"password\" name=\"password\" type=\"password\""
                + " autocomplete=\"current-password\" required>\n");
    if (csrf != null) {
      html.append("<input type=\"hidden\" name=\"")
          .append(esc(csrf.getParameterName()))
          .append("\" value=\"")
          .append(esc(csrf.getToken()))
          .append("\">\n");
    }
    html.append("<button type=\"submit\">")
        .append(zh ? "登录" : "Sign in")
        .append("</button>\n</form>\n</main>\n</body>\n</html>\n");
    return ResponseEntity.ok()
        .contentType(new MediaType("text", "html", java.nio.charset.StandardCharsets.UTF_8))
        .header("Cache-Control", "no-store")
        .body(html.toString());
  }

  static boolean chinese(String lang, HttpServletRequest request) {
    if (lang != null) {
      return !lang.toLowerCase(Locale.ROOT).startsWith("en");
    }
    String accept = request.getHeader("Accept-Language");
    if (accept == null || accept.isBlank()) {
      return true;
    }
    try {
      for (Locale.LanguageRange r : Locale.LanguageRange.parse(accept)) {
        String tag = r.getRange().toLowerCase(Locale.ROOT);
        if (tag.startsWith("zh")) {
          return true;
        }
        if (tag.startsWith("en")) {
          return false;
        }
      }
    } catch (IllegalArgumentException e) {
      return true;
    }
    return true;
  }

  private static String esc(String s) {
    return HtmlUtils.htmlEscape(s, "UTF-8");
  }
}
