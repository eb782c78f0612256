package io.yinxin.sso.web;

import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.web.util.HtmlUtils;

/**
 * The frame of every page people see: Chinese by default, English by {@code ?lang=en} or the
 * browser's Accept-Language, a link to the other language, plain HTML with its style inline (no
 * script, no asset from another host), {@code Cache-Control: no-store}.
 */
public final class Pages {
  private Pages() {}

  /** Whether a request gets the Chinese page. */
  public static boolean chinese(String lang, HttpServletRequest request) {
    if (lang != null) {
      return !lang.toLowerCase(Locale.ROOT).startsWith("en");
    }
    // The ui_locales of the authorization request that brought the person here.
    java.util.Optional<String> asked = io.yinxin.sso.token.SignInHints.language(request);
    if (asked.isPresent()) {
      return asked.get().equals("zh");
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

  /**
   * A whole page.
   *
   * @param path this page's path, for the language switch link
   * @param title the page title (already in the page's language)
   * @param message an alert shown above the content, or null
   * @param content HTML of the page's main content (its parts escaped by the caller)
   */
  public static ResponseEntity<String> page(
      boolean zh, String path, String title, String message, String content) {
    StringBuilder html = new StringBuilder(2048 + content.length());
    html.append("<!DOCTYPE html>\n<html lang=\"")
        .append(zh ? "zh-CN" : "en")
        .append("\">\n<head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>")
        .append(esc(title))
        .append(zh ? " · 印信" : " · Yinxin")
        .append("</title>")
        .append(
            "<style>body{font-family:sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem}")
        .append(
            "label{display:block;margin-top:1rem}input{width:100%;padding:.5rem;font-size:1rem}")
        .append("input[type=checkbox]{width:auto}button{margin-top:1.5rem;padding:.6rem 1.2rem;")
        .append("font-size:1rem}.msg{padding:.6rem;border:1px solid #b00;color:#b00;")
        .append("margin-top:1rem}code{font-size:1.1rem}</style>")
        .append("</head>\n<body>\n<main>\n<h1>")
        .append(esc(title))
        .append("</h1>\n<p><a href=\"")
        .append(esc(path))
        .append(path.contains("?") ? "&amp;" : "?")
        .append("lang=")
        .append(zh ? "en\" lang=\"en\">English" : "zh\" lang=\"zh-CN\">中文")
        .append("</a></p>\n");
    if (message != null) {
      html.append("<div class=\"msg\" role=\"alert\">").append(esc(message)).append("</div>\n");
    }
    html.append(content).append("</main>\n</body>\n</html>\n");
    return ResponseEntity.ok()
        .contentType(new MediaType("text", "html", StandardCharsets.UTF_8))
        .header("Cache-Control", "no-store")
        .body(html.toString());
  }

  /** The hidden CSRF field of a form, when the request carries a token. */
  static String csrf(HttpServletRequest request) {
    CsrfToken csrf = (CsrfToken) request.getAttribute(CsrfToken.class.getName());
    if (csrf == null) {
      return "";
    }
    return "<input type=\"hidden\" name=\""
        + esc(csrf.getParameterName())
        + "\" value=\""
        + esc(csrf.getToken())
        + "\">\n";
  }

  public static String esc(String s) {
    return HtmlUtils.htmlEscape(s, "UTF-8");
  }
}
