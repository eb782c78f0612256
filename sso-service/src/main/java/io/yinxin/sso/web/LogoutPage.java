package io.yinxin.sso.web;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.springframework.http.ResponseEntity;

/**
 * The page a browser sees after signing out when some of the person's applications asked to be told
 * through the browser (OpenID Front-Channel Logout 1.0): one invisible frame per application's
 * {@code frontchannel_logout_uri}, so each clears its own session with its own cookies, then on to
 * where the sign-out was going (after two seconds, or by the link). No script.
 */
public final class LogoutPage {
  private LogoutPage() {}

  /** The page, in the request's language. */
  public static ResponseEntity<String> page(
      HttpServletRequest request, List<String> frontChannel, String next) {
    boolean zh = Pages.chinese(request.getParameter("lang"), request);
    StringBuilder h = new StringBuilder(1024);
    h.append("<p>")
        .append(zh ? "正在通知您登录过的应用……" : "Telling the applications you used…")
        .append("</p>\n");
    int i = 0;
    for (String uri : frontChannel) {
      h.append("<iframe src=\"")
          .append(Pages.esc(uri))
          .append("\" title=\"")
          .append(zh ? "应用退出通知 " : "Application sign-out ")
          .append(++i)
          .append("\" width=\"0\" height=\"0\" style=\"border:0;display:block\"></iframe>\n");
    }
    h.append("<p><a id=\"continue\" href=\"")
        .append(Pages.esc(next))
        .append("\">")
        .append(zh ? "继续" : "Continue")
        .append("</a></p>\n");
    ResponseEntity<String> p =
        Pages.page(zh, "/login?logout", zh ? "您已退出登录" : "You have signed out", null, h.toString());
    String html =
        p.getBody()
            .replaceFirst(
                "<head>",
                "<head><meta http-equiv=\"refresh\" content=\"2;url=" + Pages.esc(next) + "\">");
    return ResponseEntity.ok().headers(p.getHeaders()).body(html);
  }

  /** Writes the page as the response (for Spring Security's handlers). */
  public static void write(
      HttpServletRequest request,
      HttpServletResponse response,
      List<String> frontChannel,
      String next)
      throws IOException {
    ResponseEntity<String> p = page(request, frontChannel, next);
    response.setStatus(200);
    response.setContentType("text/html;charset=UTF-8");
    response.setHeader("Cache-Control", "no-store");
    response.getOutputStream().write(p.getBody().getBytes(StandardCharsets.UTF_8));
  }
}
