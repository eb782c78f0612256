package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.SignedJWT;
import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.http.SsoAdmins;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Real-name identity end to end: an operator records a person's legal name, ID number and phone
 * through the admin API; the database holds the numbers only encrypted (no plaintext, no unsalted
 * hash of them) and the audit log never holds them; scope {@code realname} releases the masked ID
 * number in the ID token and userinfo, scope {@code id_number} (operator-granted, with consent) the
 * whole one; every release is a REALNAME_RELEASED event; no log line carries the number. Bad
 * numbers and a second account with the same number are refused and change nothing.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ExtendWith(OutputCaptureExtension.class)
class RealNameTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String ID = "11010519491231002X";
  private static final String PHONE = "13800138000";
  private static final String REDIRECT = "http://127.0.0.1:8000/callback";

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-realname");
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;
  @Autowired Accounts accounts;
  @Autowired DataSource dataSource;
  @Autowired io.yinxin.audit.store.LogStore auditStore;
  private final HttpClient http = HttpClient.newHttpClient();

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private HttpResponse<String> send(String method, String path, String token, String body)
      throws Exception {
    return Browser.json("http://127.0.0.1:" + port, method, path, token, body);
  }

  private String count(String sql) throws Exception {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** A code flow for {@code scope} with consent to {@code consented}; the token response. */
  private JsonNode signInAndConsent(
      String clientId,
      String secret,
      String username,
      String password,
      String scope,
      String consented)
      throws Exception {
    Browser b = new Browser(base());
    String verifier = Browser.verifier();
    String authorize =
        "/oauth2/authorize?response_type=code&client_id="
            + clientId
            + "&scope="
            + URLEncoder.encode(scope, StandardCharsets.UTF_8)
            + "&state=s1&nonce=n1&code_challenge_method=S256&code_challenge="
            + Browser.challenge(verifier)
            + "&redirect_uri="
            + URLEncoder.encode(REDIRECT, StandardCharsets.UTF_8);
    assertThat(Browser.location(b.get(authorize))).endsWith("/login");
    String csrf = Browser.group("name=\"_csrf\"[^>]*value=\"([^\"]+)\"", b.get("/login").body());
    String back =
        Browser.location(
            b.post(
                "/login", Map.of("username", username, "password", password, "_csrf", csrf), null));
    String consentUrl = Browser.location(b.get(back));
    HttpResponse<String> consent = b.get(consentUrl);
    if (consented.equals("id_number")) {
      assertThat(consent.body()).contains("您的完整身份证号");
    }
    String state = Browser.group("name=\"state\"[^>]*value=\"([^\"]+)\"", consent.body());
    String redirected =
        Browser.location(
            b.post(
                "/oauth2/authorize",
                Map.of("client_id", clientId, "state", state, "scope", consented),
                null));
    String code = Browser.query(redirected).get("code");
    HttpResponse<String> tokens =
        b.post(
            "/oauth2/token",
            Map.of(
                "grant_type", "authorization_code",
                "code", code,
                "redirect_uri", REDIRECT,
                "code_verifier", verifier),
            Browser.basic(clientId, secret));
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    return JSON.readTree(tokens.body());
  }

  @Test
  void numbersAreStoredEncryptedAndReleasedMaskedOrWholeOnlyAsScopedAndAudited(
      CapturedOutput output) throws Exception {
    String admin = admins.devToken().orElseThrow();
    String password = "correct horse battery staple";
    accounts.create("zhangsan", password, "Zhang San");
    HttpResponse<String> set =
        send(
            "PUT",
            "/sso/v1/accounts/zhangsan/realname",
            admin,
            JSON.writeValueAsString(
                Map.of(
                    "name", "张三",
                    "id_number", "11010519491231002x",
                    "phone", "+86 138-0013-8000",
                    "verification", "self_declared")));
    assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
    JsonNode view = JSON.readTree(set.body());
    assertThat(view.path("id_number_masked").asString()).isEqualTo("1101**********002X");
    assertThat(view.path("phone_masked").asString()).isEqualTo("138****8000");
    assertThat(set.body()).doesNotContain(ID).doesNotContain(PHONE);

    // At rest: neither number, in any column, as text or as the bytes of its UTF-8; nor their
    // plain SHA-256 (the blind index is keyed).
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT * FROM sso.real_names")) {
      assertThat(rs.next()).isTrue();
      for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
        byte[] raw =
            rs.getMetaData().getColumnType(i) == java.sql.Types.VARBINARY
                    || rs.getMetaData().getColumnType(i) == java.sql.Types.BINARY
                ? rs.getBytes(i)
                : String.valueOf(rs.getString(i)).getBytes(StandardCharsets.UTF_8);
        String text = raw == null ? "" : new String(raw, StandardCharsets.ISO_8859_1);
        String hex = raw == null ? "" : HexFormat.of().formatHex(raw);
        for (String secret : new String[] {ID, PHONE}) {
          assertThat(text).doesNotContain(secret);
          assertThat(hex)
              .doesNotContain(HexFormat.of().formatHex(secret.getBytes(StandardCharsets.UTF_8)));
          assertThat(String.valueOf(rs.getString(i)))
              .doesNotContainIgnoringCase(
                  HexFormat.of()
                      .formatHex(
                          java.security.MessageDigest.getInstance("SHA-256")
                              .digest(secret.getBytes(StandardCharsets.UTF_8))));
        }
      }
    }

    // Another account with the same number (another spelling of it) is refused; a bad one too.
    accounts.create("impostor", password, "Impostor");
    HttpResponse<String> dup =
        send(
            "PUT",
            "/sso/v1/accounts/impostor/realname",
            admin,
            "{\"name\": \"李四\", \"id_number\": \""
                + ID
                + "\", \"verification\": \"self_declared\"}");
    assertThat(dup.statusCode()).isEqualTo(409);
    for (String bad :
        new String[] {"110105194912310021", "110105194902300010", "1101051949123100"}) {
      HttpResponse<String> r =
          send(
              "PUT",
              "/sso/v1/accounts/impostor/realname",
              admin,
              "{\"name\": \"李四\", \"id_number\": \""
                  + bad
                  + "\", \"verification\": \"self_declared\"}");
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
      assertThat(r.body()).doesNotContain(bad);
    }
    // A name that reads other than it is: a right-to-left override, a zero-width space, the
    // decomposed form of an accented letter. Refused, as the CA refuses them in certificates.
    for (String name : new String[] {"李\u202e四", "李\u200b四", "Le\u0301a", " 李四"}) {
      HttpResponse<String> r =
          send(
              "PUT",
              "/sso/v1/accounts/impostor/realname",
              admin,
              JSON.writeValueAsString(Map.of("name", name, "verification", "self_declared")));
      assertThat(r.statusCode()).as(name).isEqualTo(400);
    }
    for (String display : new String[] {"张\u202e三", "e\u0301"}) {
      HttpResponse<String> r =
          send(
              "POST",
              "/sso/v1/accounts",
              admin,
              JSON.writeValueAsString(Map.of("username", "shown-wrong", "display_name", display)));
      assertThat(r.statusCode()).as(display).isEqualTo(400);
    }
    assertThat(count("SELECT count(*) FROM sso.accounts WHERE username = 'shown-wrong'"))
        .isEqualTo("0");
    assertThat(count("SELECT count(*) FROM sso.real_names WHERE username = 'impostor'"))
        .isEqualTo("0");
    assertThat(send("GET", "/sso/v1/accounts/impostor/realname", admin, null).statusCode())
        .isEqualTo(404);

    // A portal the operator allows the whole ID number.
    HttpResponse<String> reg =
        send(
            "POST",
            "/sso/v1/clients",
            admin,
            JSON.writeValueAsString(
                Map.of(
                    "client_id", "civil-affairs",
                    "client_name", "民政门户",
                    "redirect_uris", java.util.List.of(REDIRECT),
                    "grant_types", java.util.List.of("authorization_code"),
                    "scope", "openid realname id_number phone")));
    assertThat(reg.statusCode()).as(reg.body()).isEqualTo(201);
    String secret = JSON.readTree(reg.body()).path("client_secret").asString();

    // realname: the masked number in the ID token and from userinfo.
    JsonNode t =
        signInAndConsent(
            "civil-affairs", secret, "zhangsan", password, "openid realname", "realname");
    var id = SignedJWT.parse(t.path("id_token").asString()).getJWTClaimsSet();
    assertThat(id.getStringClaim("name")).isEqualTo("张三");
    assertThat(id.getStringClaim("id_number_masked")).isEqualTo("1101**********002X");
    assertThat(id.getStringClaim("realname_verification")).isEqualTo("self_declared");
    assertThat(id.getClaim("id_number")).isNull();
    assertThat(id.getDateClaim("realname_verified_at")).isNotNull(); // a NumericDate
    HttpResponse<String> info =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/userinfo"))
                .header("Authorization", "Bearer " + t.path("access_token").asString())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(info.statusCode()).as(info.body()).isEqualTo(200);
    JsonNode u = JSON.readTree(info.body());
    assertThat(u.path("sub").asString()).isEqualTo("zhangsan");
    assertThat(u.path("id_number_masked").asString()).isEqualTo("1101**********002X");
    assertThat(info.body()).doesNotContain(ID);
    assertThat(u.path("realname_verified_at").isNumber()).as(info.body()).isTrue();

    // id_number: the whole number, after the consent page said so.
    JsonNode whole =
        signInAndConsent(
            "civil-affairs", secret, "zhangsan", password, "openid id_number", "id_number");
    assertThat(
            SignedJWT.parse(whole.path("id_token").asString())
                .getJWTClaimsSet()
                .getStringClaim("id_number"))
        .isEqualTo(ID);
    // The client has its ID tokens; the authorizations kept here do not hold what they said.
    StoredAuthorizations.holdNone(dataSource, ID, "1101**********002X", "张三", PHONE);

    // Every release recorded by claim name, never by value; the audit log never holds a number.
    assertThat(
            Integer.parseInt(
                count(
                    "SELECT count(*) FROM audit.events WHERE type = 'REALNAME_RELEASED' AND subject"
                        + " = 'zhangsan'")))
        .isGreaterThanOrEqualTo(3);
    // Read decrypted (the rows are encrypted at rest, so a look at them in clear would prove
    // nothing).
    assertThat(AuditEvents.count(dataSource, auditStore, null, "id_number_masked")).isPositive();
    assertThat(AuditEvents.count(dataSource, auditStore, null, ID)).isZero();
    assertThat(AuditEvents.count(dataSource, auditStore, null, PHONE)).isZero();
    assertThat(AuditEvents.count(dataSource, auditStore, null, "1101**********002X")).isZero();
    // Nor does any log line.
    assertThat(output.getAll()).doesNotContain(ID).doesNotContain(PHONE);

    // Nor may any client have the whole ID number without asking the person each time.
    HttpResponse<String> dcrAttempt =
        send(
            "POST",
            "/sso/v1/clients",
            admin,
            JSON.writeValueAsString(
                Map.of(
                    "client_name",
                    "x",
                    "redirect_uris",
                    java.util.List.of(REDIRECT),
                    "scope",
                    "openid id_number",
                    "require_consent",
                    false)));
    assertThat(dcrAttempt.statusCode()).isEqualTo(400);
    assertThat(dcrAttempt.body()).contains("require_consent");
  }
}
