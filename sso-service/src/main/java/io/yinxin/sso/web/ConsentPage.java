package io.yinxin.sso.web;

import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.oidc.OidcScopes;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationConsent;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationConsentService;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The consent page, in Chinese and English: which portal asks, for what (each scope described in
 * words, the ones approved before marked so), with "allow" posting the chosen scopes to the
 * authorization endpoint and "deny" posting none (the client gets {@code access_denied}). Plain
 * forms, no script; the scopes are checkboxes with labels.
 */
@RestController
public class ConsentPage {
  private final RegisteredClientRepository clients;
  private final OAuth2AuthorizationConsentService consents;

  public ConsentPage(
      RegisteredClientRepository clients, OAuth2AuthorizationConsentService consents) {
    this.clients = clients;
    this.consents = consents;
  }

  @GetMapping(path = "/oauth2/consent", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> consent(
      HttpServletRequest request,
      Authentication user,
      @RequestParam(value = "client_id", required = false) String clientId,
      @RequestParam(value = "scope", required = false) String scope,
      @RequestParam(value = "state", required = false) String state,
      @RequestParam(value = "user_code", required = false) String userCode,
      @RequestParam(value = "lang", required = false) String lang) {
    // A device's request (RFC 8628) is answered at the device verification endpoint.
    String action = userCode == null ? "/oauth2/authorize" : "/oauth2/device_verification";
    String device = userCode == null ? "" : hidden("user_code", userCode);
    boolean zh = Pages.chinese(lang, request);
    RegisteredClient client = clientId == null ? null : clients.findByClientId(clientId);
    if (client == null || scope == null || state == null) {
      return ResponseEntity.badRequest()
          .contentType(new MediaType("text", "plain", java.nio.charset.StandardCharsets.UTF_8))
          .body(zh ? "授权请求不完整。" : "The authorization request is incomplete.");
    }
    OAuth2AuthorizationConsent earlier = consents.findById(client.getId(), user.getName());
    Set<String> approved = earlier == null ? Set.of() : earlier.getScopes();
    List<String> asked = new ArrayList<>();
    for (String s : scope.split(" ")) {
      if (!s.isEmpty() && !s.equals(OidcScopes.OPENID) && !asked.contains(s)) {
        asked.add(s);
      }
    }
    String name = client.getClientName() == null ? client.getClientId() : client.getClientName();
    StringBuilder c = new StringBuilder();
    c.append("<p>")
        .append(
            zh
                ? "<strong>"
                    + Pages.esc(name)
                    + "</strong> 请求访问您的账户（"
                    + Pages.esc(user.getName())
                    + "）："
                : "<strong>"
                    + Pages.esc(name)
                    + "</strong> asks to access your account ("
                    + Pages.esc(user.getName())
                    + "):")
        .append("</p>\n<form method=\"post\" action=\"" + action + "\">\n")
        .append(hidden("client_id", client.getClientId()))
        .append(hidden("state", state))
        .append(device)
        .append("<fieldset><legend>")
        .append(zh ? "允许的权限" : "Permissions")
        .append("</legend>\n");
    int i = 0;
    for (String s : asked) {
      String id = "scope-" + i++;
      c.append("<div><input type=\"checkbox\" name=\"scope\" id=\"")
          .append(id)
          .append("\" value=\"")
          .append(Pages.esc(s))
          .append("\" checked> <label for=\"")
          .append(id)
          .append("\" style=\"display:inline\">")
          .append(Pages.esc(describe(s, zh)))
          .append(approved.contains(s) ? (zh ? "（此前已同意）" : " (approved before)") : "")
          .append("</label></div>\n");
    }
    if (asked.isEmpty()) {
      c.append("<p>").append(zh ? "仅确认您的身份。" : "Only to confirm who you are.").append("</p>\n");
      // Only openid (prompt=consent asks even then): agreeing means openid, which Spring needs
      // among the agreed scopes (none at all is a refusal).
      if (java.util.Arrays.asList(scope.split(" ")).contains(OidcScopes.OPENID)) {
        c.append(hidden("scope", OidcScopes.OPENID));
      }
    }
    c.append("</fieldset>\n")
        .append(Pages.csrf(request))
        .append("<button type=\"submit\" id=\"allow\">")
        .append(zh ? "同意" : "Allow")
        .append("</button>\n</form>\n<form method=\"post\" action=\"" + action + "\">\n")
        .append(hidden("client_id", client.getClientId()))
        .append(hidden("state", state))
        .append(device)
        .append(Pages.csrf(request))
        .append("<button type=\"submit\" id=\"deny\">")
        .append(zh ? "拒绝" : "Deny")
        .append("</button>\n</form>\n");
    return Pages.page(
        zh,
        "/oauth2/consent?client_id="
            + java.net.URLEncoder.encode(
                client.getClientId(), java.nio.charset.StandardCharsets.UTF_8)
            + "&scope="
            + java.net.URLEncoder.encode(scope, java.nio.charset.StandardCharsets.UTF_8)
            + "&state="
            + java.net.URLEncoder.encode(state, java.nio.charset.StandardCharsets.UTF_8),
        zh ? "授权确认" : "Allow access",
        null,
        c.toString());
  }

  private static String hidden(String name, String value) {
    return "<input type=\"hidden\" name=\"" + name + "\" value=\"" + Pages.esc(value) + "\">\n";
  }

  /** What a scope releases, in words. */
  static String describe(String scope, boolean zh) {
    return switch (scope) {
      case OidcScopes.PROFILE -> zh ? "您的姓名和用户名" : "Your name and username";
      case OidcScopes.EMAIL -> zh ? "您的电子邮箱" : "Your email address";
      case OidcScopes.PHONE -> zh ? "您的手机号码" : "Your phone number";
      case "realname" ->
          zh
              ? "实名信息：姓名、部分隐藏的身份证号、身份核验方式"
              : "Your real-name identity: name, masked ID number, how it was verified";
      case "id_number" ->
          zh
              ? "您的完整身份证号（仅经运营方批准的应用可申请）"
              : "Your full ID number (only applications an operator has approved may ask)";
      case "offline_access" -> zh ? "在您离线时继续访问" : "Access while you are away";
      default -> (zh ? "权限 " : "Permission ") + scope;
    };
  }
}
