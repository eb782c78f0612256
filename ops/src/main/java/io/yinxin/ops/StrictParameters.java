package io.yinxin.ops;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.MethodParameter;
import org.springframework.web.bind.WebDataBinder;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.InitBinder;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * One spelling per value in every request parameter and header a handler method of any module binds
 * (its {@code @RequestParam}s, {@code @RequestHeader}s and parameter records), as the endpoints
 * that parse their own parameters already do:
 *
 * <ul>
 *   <li>a whole number is {@code 0} or an optional {@code -} and digits without a leading zero, in
 *       the type's range: {@code +1}, {@code 01}, {@code 0x10}, {@code " 1"} are refused (Spring
 *       accepts the first three, and reads {@code 0x10} as 16);
 *   <li>a decimal number is a whole number with an optional fraction ({@code 12.5}): no exponent,
 *       no {@code NaN} or {@code Infinity}, at most 32 characters;
 *   <li>a yes-or-no is {@code true} or {@code false}: Spring also reads {@code on}, {@code yes},
 *       {@code 1} (and their opposites);
 *   <li>a parameter given more than once is refused: Spring takes the first value for a number or a
 *       yes-or-no and joins the values with commas for text, so {@code page=1&page=2} sealed page 1
 *       while a proxy or a log that reads the last value saw page 2, and {@code
 *       dryRun=false&dryRun=true} ran the emergency procedure that a reader of the last value took
 *       for a dry run.
 * </ul>
 *
 * A refused value fails the binding (a parameter given twice fails before the handler runs), and
 * each module answers it in its own error format (a 400). The protocol endpoints that Spring
 * Security's filters serve (OAuth2, OpenID Connect) read their parameters themselves and refuse
 * repeated ones by their own rules.
 */
@Configuration(proxyBeanMethods = false)
class StrictParameters implements WebMvcConfigurer {
  private static final Pattern WHOLE = Pattern.compile("-?(0|[1-9][0-9]*)");
  private static final Pattern DECIMAL = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?");

  @Override
  public void addInterceptors(InterceptorRegistry registry) {
    registry.addInterceptor(new OneValue());
  }

  /** {@code s} if it is a whole number in its one spelling; the range is checked by the caller. */
  static String whole(String s) {
    if (s == null || s.length() > 20 || !WHOLE.matcher(s).matches() || s.equals("-0")) {
      throw new IllegalArgumentException("not a whole number in its plain decimal form");
    }
    return s;
  }

  static String decimal(String s) {
    if (s == null
        || s.length() > 32
        || !DECIMAL.matcher(s).matches()
        || (s.startsWith("-") && s.chars().allMatch(c -> c == '-' || c == '0' || c == '.'))) {
      throw new IllegalArgumentException("not a decimal number in its plain form");
    }
    return s;
  }

  static Boolean yesOrNo(String s) {
    if ("true".equals(s)) {
      return Boolean.TRUE;
    }
    if ("false".equals(s)) {
      return Boolean.FALSE;
    }
    throw new IllegalArgumentException("not true or false");
  }

  /**
   * The editors every controller's binder uses for numbers and yes-or-no values. An editor, not a
   * converter: when a converter refuses a value, Spring's binder tries its default editors next,
   * which read {@code +1} and {@code on} after all.
   */
  @ControllerAdvice
  static class Editors {
    @InitBinder
    void strict(WebDataBinder binder) {
      for (Class<?> t : List.of(Integer.class, int.class)) {
        binder.registerCustomEditor(t, editor(s -> Integer.valueOf(whole(s))));
      }
      for (Class<?> t : List.of(Long.class, long.class)) {
        binder.registerCustomEditor(t, editor(s -> Long.valueOf(whole(s))));
      }
      for (Class<?> t : List.of(Short.class, short.class)) {
        binder.registerCustomEditor(t, editor(s -> Short.valueOf(whole(s))));
      }
      for (Class<?> t : List.of(Float.class, float.class)) {
        binder.registerCustomEditor(t, editor(s -> Float.valueOf(decimal(s))));
      }
      for (Class<?> t : List.of(Double.class, double.class)) {
        binder.registerCustomEditor(t, editor(s -> Double.valueOf(decimal(s))));
      }
      for (Class<?> t : List.of(Boolean.class, boolean.class)) {
        binder.registerCustomEditor(t, editor(StrictParameters::yesOrNo));
      }
    }

    private static java.beans.PropertyEditor editor(Function<String, Object> parse) {
      return new java.beans.PropertyEditorSupport() {
        @Override
        public void setAsText(String text) {
          setValue(parse.apply(text));
        }
      };
    }
  }

  /**
   * A parameter of the query string given more than once, where the handler binds it to one value
   * (a {@code @RequestParam} or a component of a parameter record): refused as that parameter's
   * malformed value, before the handler runs.
   */
  static final class OneValue implements HandlerInterceptor {
    @Override
    public boolean preHandle(
        HttpServletRequest request, HttpServletResponse response, Object handler) {
      if (!(handler instanceof HandlerMethod method) || request.getQueryString() == null) {
        return true;
      }
      Set<String> seen = new HashSet<>();
      for (String pair : request.getQueryString().split("&")) {
        int eq = pair.indexOf('=');
        String name;
        try {
          name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          continue; // not this check's to judge; the container decoded what it could
        }
        if (!seen.add(name)) {
          MethodParameter bound = binding(method, name);
          if (bound != null) {
            throw new MethodArgumentTypeMismatchException(
                request.getParameterValues(name),
                bound.getParameterType(),
                name,
                bound,
                new IllegalArgumentException("given more than once"));
          }
        }
      }
      return true;
    }

    /** The handler's parameter that takes {@code name} as one value, or null. */
    private static MethodParameter binding(HandlerMethod method, String name) {
      for (MethodParameter p : method.getMethodParameters()) {
        RequestParam rp = p.getParameterAnnotation(RequestParam.class);
        if (rp != null) {
          String bound = !rp.name().isEmpty() ? rp.name() : p.getParameterName();
          if (name.equals(bound) && !multiValued(p.getParameterType())) {
            return p;
          }
        } else if (p.getParameterType().isRecord()) {
          for (var c : p.getParameterType().getRecordComponents()) {
            if (c.getName().equals(name) && !multiValued(c.getType())) {
              return p;
            }
          }
        }
      }
      return null;
    }

    private static boolean multiValued(Class<?> type) {
      return type.isArray()
          || java.util.Collection.class.isAssignableFrom(type)
          || java.util.Map.class.isAssignableFrom(type);
    }
  }
}
