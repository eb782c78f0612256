package io.yinxin.sso.cas;

import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.token.AuthenticationMethods;
import io.yinxin.sso.web.Pages;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.web.authentication.logout.SecurityContextLogoutHandler;
import org.springframework.security.web.savedrequest.HttpSessionRequestCache;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.json.JsonMapper;

/**
 * The CAS 3.0 protocol beside OpenID Connect, for older agency portals: {@code /cas/login} (with
 * {@code renew} and {@code gateway}), {@code /cas/logout}, and ticket validation at {@code
 * /cas/validate} (1.0), {@code /cas/serviceValidate} (2.0) and {@code /cas/p3/serviceValidate}
 * (3.0, with attributes; {@code format=JSON} too). The person signs in through the same pages and
 * session as for OpenID Connect. Proxy tickets are not offered: {@code pgtUrl} is ignored, as
 * §2.5.4 lets a server do, and the proxy validation paths take service tickets only.
 */
@RestController
public class CasEndpoints {
  /**
   * The sign-in state ({@link AuthenticationMethods#signIn}) when this session was sent to sign in.
   */
  static final String ASKED = CasEndpoints.class.getName() + ".asked";

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final MediaType XML = new MediaType("application", "xml", StandardCharsets.UTF_8);

  private final CasServices services;
  private final CasTickets tickets;
  private final Accounts accounts;
  private final BiFunction<String, HttpServletRequest, List<String>> signedOut;

  /**
   * @param signedOut what else a sign-out does (the OpenID clients' back-channel logout), given the
   *     person and the request; it returns the front-channel logout URLs the browser must load
   */
  public CasEndpoints(
      CasServices services,
      CasTickets tickets,
      Accounts accounts,
      BiFunction<String, HttpServletRequest, List<String>> signedOut) {
    this.services = services;
    this.tickets = tickets;
    this.accounts = accounts;
    this.signedOut = signedOut;
  }

  @GetMapping("/cas/login")
  public ResponseEntity<String> login(
      HttpServletRequest request,
      HttpServletResponse response,
      @RequestParam(value = "service", required = false) String service,
      @RequestParam(value = "renew", required = false) String renew,
      @RequestParam(value = "gateway", required = false) String gateway,
      @RequestParam(value = "lang", required = false) String lang) {
    boolean zh = Pages.chinese(lang, request);
    Authentication who = signedIn();
    if (service == null || service.isEmpty()) {
      if (who == null) {
        return toSignIn(request, response, null);
      }
      return Pages.page(
          zh,
          "/cas/login",
          zh ? "已登录" : "Signed in",
          null,
          "<p>" + Pages.esc((zh ? "您已登录：" : "You are signed in as ") + who.getName()) + "</p>\n");
    }
    var registered = services.byUrl(service);
    if (registered.isEmpty()) {
      // Never a redirect to a URL nobody registered: that would be an open redirect.
      ResponseEntity<String> page =
          Pages.page(
              zh,
              "/cas/login",
              zh ? "应用未注册" : "Application not registered",
              zh
                  ? "此应用未在印信注册，不能通过印信登录。请联系该应用的管理员。"
                  : "This application is not registered with Yinxin and cannot sign you in"
                      + " through it. Please contact its administrator.",
              "");
      return ResponseEntity.status(HttpStatus.BAD_REQUEST)
          .headers(page.getHeaders())
          .body(page.getBody());
    }
    boolean mustRenew = "true".equalsIgnoreCase(renew);
    HttpSession session = request.getSession(false);
    Object asked = session == null ? null : session.getAttribute(ASKED);
    boolean newLogin =
        who != null && asked != null && !asked.equals(AuthenticationMethods.signIn(who));
    if (who == null || (mustRenew && !newLogin)) {
      if (who == null && !mustRenew && "true".equalsIgnoreCase(gateway)) {
        return redirect(service); // gateway: no sign-in page, back without a ticket
      }
      return toSignIn(request, response, who);
    }
    if (session != null) {
      session.removeAttribute(ASKED);
    }
    List<String> methods = AuthenticationMethods.amr(who.getAuthorities());
    String ticket =
        tickets.issue(
            registered.get(),
            new CasTickets.SignIn(
                who.getName(),
                methods,
                newLogin,
                AuthenticationMethods.authTime(who).orElseGet(Instant::now)));
    return redirect(service + (service.contains("?") ? "&" : "?") + "ticket=" + ticket);
  }

  @GetMapping("/cas/logout")
  public ResponseEntity<String> logout(
      HttpServletRequest request,
      HttpServletResponse response,
      @RequestParam(value = "service", required = false) String service,
      @RequestParam(value = "lang", required = false) String lang) {
    Authentication who = signedIn();
    List<String> front = List.of();
    if (who != null) {
      front = signedOut.apply(who.getName(), request);
      tickets.forget(who.getName());
    }
    new SecurityContextLogoutHandler().logout(request, response, who);
    boolean back = service != null && services.byUrl(service).isPresent();
    if (!front.isEmpty()) {
      return io.yinxin.sso.web.LogoutPage.page(request, front, back ? service : "/login?logout");
    }
    if (back) {
      return redirect(service);
    }
    boolean zh = Pages.chinese(lang, request);
    return Pages.page(
        zh,
        "/cas/logout",
        zh ? "已退出" : "Signed out",
        null,
        zh
            ? "<p>您已退出登录。为安全起见，请关闭浏览器。</p>\n"
            : "<p>You have signed out. For your safety, close the browser.</p>\n");
  }

  /** CAS 1.0: {@code yes\nuser\n} or {@code no\n}. */
  @GetMapping("/cas/validate")
  public ResponseEntity<String> validate1(
      @RequestParam(value = "ticket", required = false) String ticket,
      @RequestParam(value = "service", required = false) String service,
      @RequestParam(value = "renew", required = false) String renew) {
    CasTickets.Outcome o = tickets.validate(ticket, service, "true".equalsIgnoreCase(renew));
    String body = o instanceof CasTickets.Valid v ? "yes\n" + v.signIn().username() + "\n" : "no\n";
    return ResponseEntity.ok()
        .contentType(new MediaType("text", "plain", StandardCharsets.UTF_8))
        .header(HttpHeaders.CACHE_CONTROL, "no-store")
        .body(body);
  }

  /** CAS 2.0: the user, no attributes. */
  @GetMapping({"/cas/serviceValidate", "/cas/proxyValidate"})
  public ResponseEntity<String> validate2(
      @RequestParam(value = "ticket", required = false) String ticket,
      @RequestParam(value = "service", required = false) String service,
      @RequestParam(value = "renew", required = false) String renew,
      @RequestParam(value = "format", required = false) String format) {
    return answer(tickets.validate(ticket, service, "true".equalsIgnoreCase(renew)), format, false);
  }

  /** CAS 3.0: the user and attributes. */
  @GetMapping({"/cas/p3/serviceValidate", "/cas/p3/proxyValidate"})
  public ResponseEntity<String> validate3(
      @RequestParam(value = "ticket", required = false) String ticket,
      @RequestParam(value = "service", required = false) String service,
      @RequestParam(value = "renew", required = false) String renew,
      @RequestParam(value = "format", required = false) String format) {
    return answer(tickets.validate(ticket, service, "true".equalsIgnoreCase(renew)), format, true);
  }

  /**
   * A parameter the node refused before the handler ran (given twice, or not in its one spelling):
   * the validation endpoints answer in CAS's own form (§2.5: {@code INVALID_REQUEST}, HTTP 200; CAS
   * 1.0: {@code no}), the others with a plain 400.
   */
  @org.springframework.web.bind.annotation.ExceptionHandler(
      org.springframework.web.method.annotation.MethodArgumentTypeMismatchException.class)
  public ResponseEntity<String> malformed(HttpServletRequest request) {
    String path = request.getRequestURI().substring(request.getContextPath().length());
    CasTickets.Invalid invalid =
        new CasTickets.Invalid("INVALID_REQUEST", "a parameter is malformed or given twice");
    if (path.equals("/cas/validate")) {
      return ResponseEntity.ok()
          .contentType(new MediaType("text", "plain", StandardCharsets.UTF_8))
          .header(HttpHeaders.CACHE_CONTROL, "no-store")
          .body("no\n");
    }
    if (path.endsWith("/serviceValidate") || path.endsWith("/proxyValidate")) {
      String[] format = request.getParameterValues("format");
      return answer(invalid, format != null && format.length == 1 ? format[0] : null, false);
    }
    return ResponseEntity.badRequest()
        .contentType(new MediaType("text", "plain", StandardCharsets.UTF_8))
        .body(invalid.message() + "\n");
  }

  private ResponseEntity<String> answer(
      CasTickets.Outcome outcome, String format, boolean withAttributes) {
    boolean json = "JSON".equalsIgnoreCase(format);
    String body;
    if (outcome instanceof CasTickets.Valid v) {
      Map<String, List<String>> attributes = withAttributes ? attributes(v.signIn()) : Map.of();
      body =
          json
              ? JSON.writeValueAsString(CasResponse.successJson(v.signIn().username(), attributes))
              : CasResponse.successXml(v.signIn().username(), attributes);
    } else {
      CasTickets.Invalid i = (CasTickets.Invalid) outcome;
      body =
          json
              ? JSON.writeValueAsString(CasResponse.failureJson(i.code(), i.message()))
              : CasResponse.failureXml(i.code(), i.message());
    }
    // §2.5: the answer is the document, success or not; HTTP 200 either way.
    return ResponseEntity.ok()
        .contentType(json ? MediaType.APPLICATION_JSON : XML)
        .header(HttpHeaders.CACHE_CONTROL, "no-store")
        .body(body);
  }

  /** The attributes a CAS 3.0 service learns: how and when the person signed in, and their name. */
  private Map<String, List<String>> attributes(CasTickets.SignIn s) {
    Map<String, List<String>> a = new LinkedHashMap<>();
    a.put("authenticationDate", List.of(s.authTime().toString()));
    a.put("isFromNewLogin", List.of(Boolean.toString(s.newLogin())));
    a.put("longTermAuthenticationRequestTokenUsed", List.of("false"));
    if (!s.methods().isEmpty()) {
      a.put("authenticationMethod", s.methods());
      a.put("acr", List.of(AuthenticationMethods.acr(s.methods())));
    }
    accounts.displayName(s.username()).ifPresent(n -> a.put("name", List.of(n)));
    return a;
  }

  /** The person signed in on this session, or null. */
  private static Authentication signedIn() {
    Authentication a = SecurityContextHolder.getContext().getAuthentication();
    if (a == null || !a.isAuthenticated() || a instanceof AnonymousAuthenticationToken) {
      return null;
    }
    return a;
  }

  /**
   * Sends the browser to sign in and back here afterwards. The session remembers which sign-in it
   * had when it left, so that on return a new one is told apart from the old without comparing the
   * clocks of two nodes.
   */
  private static ResponseEntity<String> toSignIn(
      HttpServletRequest request, HttpServletResponse response, Authentication current) {
    request.getSession().setAttribute(ASKED, AuthenticationMethods.signIn(current));
    new HttpSessionRequestCache().saveRequest(request, response);
    return redirect("/login");
  }

  private static ResponseEntity<String> redirect(String location) {
    return ResponseEntity.status(HttpStatus.FOUND)
        .header(HttpHeaders.LOCATION, location)
        .header(HttpHeaders.CACHE_CONTROL, "no-store")
        .build();
  }
}
