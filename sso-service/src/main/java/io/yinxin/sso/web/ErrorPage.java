package io.yinxin.sso.web;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.boot.webmvc.autoconfigure.error.ErrorViewResolver;
import org.springframework.boot.webmvc.error.ErrorAttributes;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatus;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.ModelAndView;
import org.springframework.web.servlet.View;

/**
 * The page a browser gets for an error (anything Spring Boot's error controller answers in HTML: an
 * authorization request Spring refuses without a redirect, a page parameter given twice, a path
 * that does not exist, a failure on the node), in Chinese or English as every other page, in place
 * of Spring's English-only "Whitelabel Error Page". It says what happened and what the person can
 * do, and where the fault is a request parameter, which one: only a parameter's name and an OAuth 2
 * error code, never a value from the request. API clients, which do not ask for HTML, keep their
 * JSON answers.
 */
public final class ErrorPage implements ErrorViewResolver, Ordered {
  /** How Spring Authorization Server writes an error it does not send back to the client. */
  private static final Pattern OAUTH2 =
      Pattern.compile("\\[([a-z_]{1,40})\\] OAuth 2\\.0 Parameter: ([a-z_]{1,40})");

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,39}");

  /** A same-site path to offer the other language on; anything else gets the sign-in page. */
  private static final Pattern PATH = Pattern.compile("/(?![/\\\\])[\\x21-\\x7e]{0,500}");

  /**
   * A request attribute naming the parameter at fault, for filters that refuse a request before
   * Spring's handlers see it ({@link OneValueSignIn}).
   */
  public static final String PARAMETER = ErrorPage.class.getName() + ".parameter";

  private final ErrorAttributes errors;

  public ErrorPage(ErrorAttributes errors) {
    this.errors = errors;
  }

  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE; // before Boot's own resolver, which has none
  }

  @Override
  public ModelAndView resolveErrorView(
      HttpServletRequest request, HttpStatus status, Map<String, Object> model) {
    return new ModelAndView(
        (View)
            (m, req, res) -> {
              byte[] html = html(req, status).getBytes(StandardCharsets.UTF_8);
              // The page's language, not the one Spring's locale resolver set for the response.
              res.setLocale(
                  Pages.chinese(req.getParameter("lang"), req)
                      ? java.util.Locale.SIMPLIFIED_CHINESE
                      : java.util.Locale.ENGLISH);
              res.setContentType("text/html;charset=UTF-8");
              res.setHeader("Cache-Control", "no-store");
              res.setContentLength(html.length);
              res.getOutputStream().write(html);
            });
  }

  String html(HttpServletRequest request, HttpStatus status) {
    boolean zh = Pages.chinese(request.getParameter("lang"), request);
    String[] text = text(status.value(), zh);
    StringBuilder h = new StringBuilder(512);
    h.append("<p id=\"explanation\">").append(Pages.esc(text[1])).append("</p>\n");
    parameter(request)
        .ifPresent(
            p ->
                h.append("<p id=\"parameter\">")
                    .append(zh ? "出错的参数：" : "Parameter at fault: ")
                    .append("<code>")
                    .append(Pages.esc(p))
                    .append("</code></p>\n"));
    h.append("<p id=\"status\">")
        .append(zh ? "错误代码：HTTP " : "Error code: HTTP ")
        .append(status.value())
        .append("</p>\n");
    return Pages.page(zh, languagePath(request), text[0], null, h.toString()).getBody();
  }

  /** Title and explanation of a status, in the page's language. */
  private static String[] text(int status, boolean zh) {
    if (status == 400) {
      return zh
          ? new String[] {"请求无法处理", "链接或表单中的参数无效。请返回上一页重试；如果问题仍然存在，请告知将您带到这里的应用的管理员。"}
          : new String[] {
            "This request cannot be handled",
            "A parameter in the link or the form is not valid. Go back and try again; if it happens"
                + " again, tell the administrator of the application that sent you here."
          };
    }
    if (status == 401 || status == 403) {
      return zh
          ? new String[] {"无权访问", "您没有访问此地址的权限。请先登录，或使用有权限的账户。"}
          : new String[] {
            "Access denied",
            "You may not open this address. Sign in first, or with an account that may."
          };
    }
    if (status == 404) {
      return zh
          ? new String[] {"找不到页面", "此地址没有页面。请检查链接是否完整。"}
          : new String[] {
            "Page not found", "There is no page at this address. Check that the link is complete."
          };
    }
    if (status == 405) {
      return zh
          ? new String[] {"不支持此操作", "此地址不接受这种请求。请从应用中的链接或按钮进入。"}
          : new String[] {
            "Not possible here",
            "This address does not take this kind of request. Use the link or button in the"
                + " application."
          };
    }
    if (status == 413) {
      return zh
          ? new String[] {"内容过大", "提交的内容超过了允许的大小。"}
          : new String[] {"Too large", "What was sent is larger than allowed."};
    }
    if (status == 429) {
      return zh
          ? new String[] {"请求过于频繁", "请稍候再试。"}
          : new String[] {"Too many requests", "Wait a moment and try again."};
    }
    if (status >= 500) {
      return zh
          ? new String[] {"服务暂时出错", "这不是您的问题。请稍后再试；如果问题仍然存在，请联系服务管理员。"}
          : new String[] {
            "Something went wrong on our side",
            "This is not your fault. Try again later; if it keeps happening, contact the service's"
                + " administrator."
          };
    }
    return zh
        ? new String[] {"出错了", "请求没有完成。请返回上一页重试。"}
        : new String[] {
          "Something went wrong", "The request was not completed. Go back and try again."
        };
  }

  /**
   * The request parameter at fault, when the error names one: an authorization request Spring
   * refused ({@code redirect_uri (invalid_request)}), or a page parameter malformed or given twice.
   */
  private Optional<String> parameter(HttpServletRequest request) {
    if (request.getAttribute(PARAMETER) instanceof String named && NAME.matcher(named).matches()) {
      return Optional.of(named);
    }
    Object message = request.getAttribute(RequestDispatcher.ERROR_MESSAGE);
    if (message instanceof String s) {
      Matcher m = OAUTH2.matcher(s);
      if (m.matches()) {
        return Optional.of(m.group(2) + " (" + m.group(1) + ")");
      }
    }
    Throwable t = errors.getError(new ServletWebRequest(request));
    if (t instanceof MethodArgumentTypeMismatchException e
        && e.getName() != null
        && NAME.matcher(e.getName()).matches()) {
      return Optional.of(e.getName());
    }
    return Optional.empty();
  }

  /**
   * The failed address without its {@code lang}, for the link to the page in the other language.
   */
  private static String languagePath(HttpServletRequest request) {
    Object uri = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
    String path = uri instanceof String s ? s : "/login";
    if (!PATH.matcher(path).matches()) {
      return "/login";
    }
    String query = request.getQueryString();
    if (query == null || query.length() > 2000) {
      return path;
    }
    StringBuilder kept = new StringBuilder();
    for (String pair : query.split("&")) {
      if (pair.isEmpty() || pair.equals("lang") || pair.startsWith("lang=")) {
        continue;
      }
      kept.append(kept.length() == 0 ? "" : "&").append(pair);
    }
    String out = kept.length() == 0 ? path : path + "?" + kept;
    return PATH.matcher(out).matches() ? out : path;
  }
}
