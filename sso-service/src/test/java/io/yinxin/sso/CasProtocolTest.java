package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.account.DemoUser;
import io.yinxin.sso.http.SsoAdmins;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apereo.cas.client.validation.Assertion;
import org.apereo.cas.client.validation.Cas20ServiceTicketValidator;
import org.apereo.cas.client.validation.Cas30ServiceTicketValidator;
import org.apereo.cas.client.validation.TicketValidationException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * CAS 3.0 for older portals, judged by Apereo's own CAS client (cas-client-core, what a Java portal
 * uses): a person signs in through the login page and the service's ticket validates at {@code
 * /cas/p3/serviceValidate} with the person's attributes, and at {@code /cas/serviceValidate}
 * without; single sign-on gives the next ticket without a password; {@code renew} and {@code
 * gateway} do what the protocol says. Then what must fail: a ticket used twice, for another
 * service, after it expired, or without the new sign-in {@code renew} asked for; a service URL not
 * registered exactly (no open redirect); a name with markup in it cannot change the XML.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class CasProtocolTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String PORTAL = "https://portal.example.gov.cn/app?dept=tax";
  private static final String OTHER = "https://other.example.gov.cn/cas-login";

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-cas");
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;
  @Autowired DemoUser user;
  @Autowired Accounts accounts;
  @Autowired DataSource dataSource;
  @Autowired io.yinxin.audit.store.LogStore auditStore;
  private final HttpClient http = HttpClient.newHttpClient();

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private HttpResponse<String> admin(String method, String path, String body, String token)
      throws Exception {
    return Browser.json("http://127.0.0.1:" + port, method, path, token, body);
  }

  @BeforeEach
  void registerServices() throws Exception {
    for (String[] s :
        new String[][] {{"tax-portal", PORTAL, "税务旧门户 Tax portal"}, {"other", OTHER, "Other"}}) {
      if (admin("GET", "/sso/v1/cas-services/" + s[0], null, admins.devToken().orElseThrow())
              .statusCode()
          == 404) {
        HttpResponse<String> r =
            admin(
                "POST",
                "/sso/v1/cas-services",
                JSON.writeValueAsString(
                    Map.of("service_id", s[0], "service_url", s[1], "name", s[2])),
                admins.devToken().orElseThrow());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      }
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Signs in on the login page the CAS login sent the browser to, and follows back. */
  private static HttpResponse<String> signIn(Browser b, String username, String password)
      throws Exception {
    String csrf = Browser.group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", b.get("/login").body());
    HttpResponse<String> r =
        b.post("/login", Map.of("username", username, "password", password, "_csrf", csrf), null);
    return b.get(Browser.location(r));
  }

  /** The ticket in a redirect to {@code service}. */
  private static String ticket(HttpResponse<String> r, String service) {
    String location = Browser.location(r);
    assertThat(location).startsWith(service + (service.contains("?") ? "&" : "?") + "ticket=");
    String ticket = location.substring(location.indexOf("ticket=") + 7);
    assertThat(ticket).matches("ST-[0-9a-f]{64}");
    return ticket;
  }

  private String loginTicket(Browser b, String service) throws Exception {
    HttpResponse<String> r = b.get("/cas/login?service=" + enc(service));
    assertThat(Browser.location(r)).endsWith("/login");
    return ticket(signIn(b, user.username(), user.password().orElseThrow()), service);
  }

  private Cas30ServiceTicketValidator cas30() {
    return new Cas30ServiceTicketValidator(base() + "/cas");
  }

  private String raw(String path) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create(base() + path)).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void aPortalSignsAPersonInAndApereosClientValidatesTheTicketWithAttributes() throws Exception {
    Browser b = new Browser(base());
    String ticket = loginTicket(b, PORTAL);
    Assertion a = cas30().validate(ticket, PORTAL);
    assertThat(a.getPrincipal().getName()).isEqualTo(user.username());
    Map<String, Object> attributes = a.getPrincipal().getAttributes();
    assertThat(attributes.get("name")).isEqualTo("演示用户 Demo User");
    assertThat(attributes.get("authenticationMethod")).isEqualTo("pwd");
    assertThat(attributes.get("acr")).isEqualTo("urn:yinxin:loa:1");
    assertThat(attributes.get("isFromNewLogin")).isEqualTo("true");
    assertThat(String.valueOf(attributes.get("authenticationDate"))).matches("20\\d\\d-.*Z");

    // Single sign-on: the next portal visit gets a ticket at once, not from a new sign-in.
    String second = ticket(b.get("/cas/login?service=" + enc(PORTAL)), PORTAL);
    assertThat(second).isNotEqualTo(ticket);
    Assertion again = cas30().validate(second, PORTAL);
    assertThat(again.getPrincipal().getAttributes().get("isFromNewLogin")).isEqualTo("false");

    // CAS 2.0 validation: the user, no attributes.
    String third = ticket(b.get("/cas/login?service=" + enc(PORTAL)), PORTAL);
    Assertion v2 = new Cas20ServiceTicketValidator(base() + "/cas").validate(third, PORTAL);
    assertThat(v2.getPrincipal().getName()).isEqualTo(user.username());
    assertThat(v2.getPrincipal().getAttributes()).isEmpty();

    // Each validated ticket is a TOKEN_ISSUED audit event naming the service.
    assertThat(
            AuditEvents.count(
                dataSource, auditStore, "TOKEN_ISSUED", "\"grant\":\"cas\"", "tax-portal"))
        .isGreaterThanOrEqualTo(3);
  }

  @Test
  void aTicketIsGoodOnceForItsServiceOnlyAndUntilItExpires() throws Exception {
    Browser b = new Browser(base());
    String ticket = loginTicket(b, PORTAL);
    cas30().validate(ticket, PORTAL);
    assertThatThrownBy(() -> cas30().validate(ticket, PORTAL))
        .isInstanceOf(TicketValidationException.class);
    assertThat(raw("/cas/p3/serviceValidate?service=" + enc(PORTAL) + "&ticket=" + ticket))
        .contains("<cas:authenticationFailure code=\"INVALID_TICKET\">");

    // Presented by another registered service: refused, and used up all the same.
    String stolen = ticket(b.get("/cas/login?service=" + enc(PORTAL)), PORTAL);
    assertThat(raw("/cas/p3/serviceValidate?service=" + enc(OTHER) + "&ticket=" + stolen))
        .contains("code=\"INVALID_SERVICE\"");
    assertThatThrownBy(() -> cas30().validate(stolen, PORTAL))
        .isInstanceOf(TicketValidationException.class);

    // Expired by the database's clock.
    String late = ticket(b.get("/cas/login?service=" + enc(PORTAL)), PORTAL);
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.executeUpdate(
          "UPDATE sso.cas_tickets SET expires_at = CURRENT_TIMESTAMP - INTERVAL '1' SECOND");
    }
    assertThat(raw("/cas/p3/serviceValidate?service=" + enc(PORTAL) + "&ticket=" + late))
        .contains("code=\"INVALID_TICKET\"")
        .contains("expired");

    // Malformed requests.
    assertThat(raw("/cas/p3/serviceValidate?service=" + enc(PORTAL)))
        .contains("code=\"INVALID_REQUEST\"");
    assertThat(raw("/cas/p3/serviceValidate?service=" + enc(PORTAL) + "&ticket=PT-1234"))
        .contains("code=\"INVALID_TICKET_SPEC\"");
    assertThat(raw("/cas/validate?service=" + enc(PORTAL) + "&ticket=ST-" + "0".repeat(64)))
        .isEqualTo("no\n");
  }

  @Test
  void renewAsksForANewSignInAndGatewayNeverShowsTheLoginPage() throws Exception {
    // gateway without a session: back to the service, no ticket, no login page.
    Browser fresh = new Browser(base());
    assertThat(Browser.location(fresh.get("/cas/login?gateway=true&service=" + enc(OTHER))))
        .isEqualTo(OTHER);

    Browser b = new Browser(base());
    String first = loginTicket(b, PORTAL);
    cas30().validate(first, PORTAL);
    // A ticket from single sign-on does not satisfy a service that asks for renew.
    String sso = ticket(b.get("/cas/login?service=" + enc(PORTAL)), PORTAL);
    Cas30ServiceTicketValidator renewing = cas30();
    renewing.setRenew(true);
    assertThatThrownBy(() -> renewing.validate(sso, PORTAL))
        .isInstanceOf(TicketValidationException.class);
    // renew=true sends a signed-in person to the login page again; the ticket after it passes.
    assertThat(Browser.location(b.get("/cas/login?renew=true&service=" + enc(PORTAL))))
        .endsWith("/login");
    String renewed = ticket(signIn(b, user.username(), user.password().orElseThrow()), PORTAL);
    Assertion a = renewing.validate(renewed, PORTAL);
    assertThat(a.getPrincipal().getAttributes().get("isFromNewLogin")).isEqualTo("true");
  }

  @Test
  void aServiceUrlNotRegisteredExactlyIsNeverRedirectedTo() throws Exception {
    Browser b = new Browser(base());
    loginTicket(b, PORTAL);
    for (String evil :
        List.of(
            "https://evil.example.com/",
            PORTAL + "&next=https://evil.example.com/",
            PORTAL.replace("https://", "http://"),
            "https://portal.example.gov.cn/app",
            "https://PORTAL.example.gov.cn/app?dept=tax",
            "https://portal.example.gov.cn.evil.com/app?dept=tax")) {
      HttpResponse<String> r = b.get("/cas/login?service=" + enc(evil));
      assertThat(r.statusCode()).as(evil).isEqualTo(400);
      assertThat(r.headers().firstValue("Location")).as(evil).isEmpty();
      assertThat(r.body()).contains("未在印信注册");
    }
    // Nor on logout.
    HttpResponse<String> out = b.get("/cas/logout?service=" + enc("https://evil.example.com/"));
    assertThat(out.statusCode()).isEqualTo(200);
    assertThat(out.headers().firstValue("Location")).isEmpty();
  }

  @Test
  void logoutEndsTheSessionAndReturnsToARegisteredService() throws Exception {
    Browser b = new Browser(base());
    loginTicket(b, PORTAL);
    assertThat(Browser.location(b.get("/cas/logout?service=" + enc(OTHER)))).isEqualTo(OTHER);
    // Signed out: the next CAS login asks for the password again.
    assertThat(Browser.location(b.get("/cas/login?service=" + enc(PORTAL)))).endsWith("/login");
    HttpResponse<String> page = new Browser(base()).get("/cas/logout?lang=en");
    assertThat(page.body()).contains("You have signed out");
  }

  @Test
  void markupInANameCannotChangeTheValidationAnswer() throws Exception {
    String password = "correct horse battery staple";
    accounts.create("markup", password, "A</cas:name><cas:user>admin</cas:user>&\"'");
    Browser b = new Browser(base());
    assertThat(Browser.location(b.get("/cas/login?service=" + enc(PORTAL)))).endsWith("/login");
    String ticket = ticket(signIn(b, "markup", password), PORTAL);
    Assertion a = cas30().validate(ticket, PORTAL);
    assertThat(a.getPrincipal().getName()).isEqualTo("markup");
    assertThat(a.getPrincipal().getAttributes().get("name"))
        .isEqualTo("A</cas:name><cas:user>admin</cas:user>&\"'");
  }

  @Test
  void theJsonFormIsTheSameAnswer() throws Exception {
    Browser b = new Browser(base());
    String ticket = loginTicket(b, PORTAL);
    JsonNode j =
        JSON.readTree(
            raw(
                "/cas/p3/serviceValidate?format=JSON&service="
                    + enc(PORTAL)
                    + "&ticket="
                    + ticket));
    JsonNode ok = j.path("serviceResponse").path("authenticationSuccess");
    assertThat(ok.path("user").asString()).isEqualTo(user.username());
    assertThat(ok.path("attributes").path("authenticationMethod").get(0).asString())
        .isEqualTo("pwd");
    JsonNode no =
        JSON.readTree(
            raw(
                "/cas/p3/serviceValidate?format=JSON&service="
                    + enc(PORTAL)
                    + "&ticket="
                    + ticket));
    assertThat(no.path("serviceResponse").path("authenticationFailure").path("code").asString())
        .isEqualTo("INVALID_TICKET");
  }

  @Test
  void theServiceRegistryRefusesBadUrlsAndStrangers() throws Exception {
    String token = admins.devToken().orElseThrow();
    for (String url :
        List.of(
            "http://portal.example.gov.cn/",
            "https://portal.example.gov.cn/*",
            "https://portal.example.gov.cn/#x",
            "https://user@portal.example.gov.cn/",
            "https://portal.example.gov.cn:443/",
            "https://portal.example.gov.cn/?ticket=ST-1",
            "relative/path")) {
      HttpResponse<String> r =
          admin(
              "POST",
              "/sso/v1/cas-services",
              JSON.writeValueAsString(Map.of("service_url", url, "name", "x")),
              token);
      assertThat(r.statusCode()).as(url + " " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("invalid_client_metadata");
    }
    HttpResponse<String> dup =
        admin(
            "POST",
            "/sso/v1/cas-services",
            JSON.writeValueAsString(Map.of("service_url", PORTAL, "name", "again")),
            token);
    assertThat(dup.statusCode()).isEqualTo(409);
    assertThat(
            admin(
                    "POST",
                    "/sso/v1/cas-services",
                    JSON.writeValueAsString(Map.of("service_url", OTHER + "/x", "name", "x")),
                    null)
                .statusCode())
        .isEqualTo(401);
    assertThat(admin("GET", "/sso/v1/cas-services", null, "not-the-token").statusCode())
        .isEqualTo(401);
    JsonNode list = JSON.readTree(admin("GET", "/sso/v1/cas-services", null, token).body());
    assertThat(list.path("services").findValuesAsString("service_url")).contains(PORTAL, OTHER);
  }
}
