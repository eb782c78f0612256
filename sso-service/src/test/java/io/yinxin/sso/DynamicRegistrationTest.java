package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sso.http.SsoAdmins;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * OpenID Dynamic Client Registration behind an initial access token (scope {@code client.create}):
 * a registered client comes back with its generated id and secret and a registration access token
 * that reads it; the initial token registers one client; the same metadata rules as the admin API
 * refuse what they refuse there, and nothing is stored then; a registration is a CONFIG_CHANGED
 * event.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class DynamicRegistrationTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    OpenIdProviderTest.h2Node(r, "sso-dcr");
  }

  @LocalServerPort int port;
  @Autowired io.yinxin.sso.client.ClientAdmin clientAdmin;
  @Autowired SsoAdmins admins;
  @Autowired DataSource dataSource;
  @Autowired io.yinxin.audit.store.LogStore auditStore;
  private final HttpClient http = HttpClient.newHttpClient();

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private HttpResponse<String> json(String method, String url, String bearer, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url.startsWith("http") ? url : base() + url))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String token(String clientId, String secret, String scope) throws Exception {
    HttpResponse<String> r =
        new Browser(base())
            .post(
                "/oauth2/token",
                Map.of("grant_type", "client_credentials", "scope", scope),
                Browser.basic(clientId, secret));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body()).path("access_token").asString();
  }

  private long clients() throws Exception {
    try (var c = dataSource.getConnection();
        var rs =
            c.createStatement().executeQuery("SELECT count(*) FROM sso.oauth2_registered_client")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void aRegistrarWithAnInitialAccessTokenRegistersAClientThatCanReadItself() throws Exception {
    HttpResponse<String> registrar =
        json(
            "POST",
            "/sso/v1/clients",
            admins.devToken().orElseThrow(),
            "{\"client_id\": \"registrar\", \"client_name\": \"Registrar\", \"grant_types\":"
                + " [\"client_credentials\"], \"scope\": \"client.create audit:read\"}");
    assertThat(registrar.statusCode()).as(registrar.body()).isEqualTo(201);
    String secret = JSON.readTree(registrar.body()).path("client_secret").asString();
    String initial = token("registrar", secret, "client.create");

    String metadata =
        "{\"client_name\": \"许可门户 Permits\", \"redirect_uris\":"
            + " [\"https://permits.example.gov.cn/cb\"], \"grant_types\": [\"authorization_code\"],"
            + " \"response_types\": [\"code\"], \"scope\": \"openid profile\","
            + " \"id_token_signed_response_alg\": \"ES256\","
            + " \"default_acr_values\": [\"urn:yinxin:loa:2\"]}";
    HttpResponse<String> made = json("POST", "/connect/register", initial, metadata);
    assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
    JsonNode m = JSON.readTree(made.body());
    String clientId = m.path("client_id").asString();
    assertThat(clientId).matches("yx-[0-9a-f]{20}");
    assertThat(m.path("client_secret").asString()).matches("[0-9a-f]{64}");
    assertThat(m.path("redirect_uris").toString()).contains("https://permits.example.gov.cn/cb");
    // Kept, not just accepted: the client's ID tokens are ES256 from now on.
    assertThat(m.path("id_token_signed_response_alg").asString()).isEqualTo("ES256");
    // And its sign-ins default to two factors.
    assertThat(
            io.yinxin.sso.client.ClientMetadata.defaultAcrValues(
                clientAdmin.find(clientId).orElseThrow()))
        .contains("urn:yinxin:loa:2");
    HttpResponse<String> read =
        json(
            "GET",
            m.path("registration_client_uri").asString(),
            m.path("registration_access_token").asString(),
            null);
    assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
    assertThat(read.body()).contains(clientId);
    // Not the stored {hmac-sha256}… form of the secret, nor an expiry for a secret not shown.
    assertThat(JSON.readTree(read.body()).has("client_secret")).as(read.body()).isFalse();
    assertThat(JSON.readTree(read.body()).has("client_secret_expires_at")).isFalse();
    assertThat(read.body()).doesNotContain("hmac");
    assertThat(
            AuditEvents.countFor(
                dataSource,
                auditStore,
                "CONFIG_CHANGED",
                "client/" + clientId,
                "client_registered_dynamically"))
        .isEqualTo(1);

    // What must fail, storing nothing: the spent initial access token (it registers one client),
    // none, one without client.create, and metadata the admin API refuses too.
    long before = clients();
    assertThat(json("POST", "/connect/register", initial, metadata).statusCode()).isEqualTo(401);
    assertThat(json("POST", "/connect/register", null, metadata).statusCode()).isEqualTo(401);
    String notRegistrar = token("registrar", secret, "audit:read");
    assertThat(json("POST", "/connect/register", notRegistrar, metadata).statusCode())
        .isEqualTo(403);
    HttpResponse<String> wildcard =
        json(
            "POST",
            "/connect/register",
            token("registrar", secret, "client.create"),
            metadata.replace("https://permits.example.gov.cn/cb", "https://*.example.gov.cn/cb"));
    assertThat(wildcard.statusCode()).isEqualTo(400);
    assertThat(wildcard.body()).contains("invalid_redirect_uri");
    HttpResponse<String> unknown =
        json(
            "POST",
            "/connect/register",
            token("registrar", secret, "client.create"),
            metadata.replace(
                "\"scope\"", "\"jwks_uri\": \"https://evil.example/jwks\", \"scope\""));
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.body()).contains("invalid_client_metadata");
    // The whole ID number is an operator's grant, never self-service.
    HttpResponse<String> idNumber =
        json(
            "POST",
            "/connect/register",
            token("registrar", secret, "client.create"),
            metadata.replaceFirst("\"scope\": \"", "\"scope\": \"id_number "));
    assertThat(idNumber.statusCode()).as(idNumber.body()).isEqualTo(400);
    assertThat(idNumber.body()).contains("operator");
    assertThat(clients()).isEqualTo(before);
  }

  /**
   * Metadata in more than one reading: a member twice (the first redirect URI a reviewer sees, the
   * last one Spring kept), a number or a list where the text is, a number in a list of URIs, a body
   * beyond 64 KB, no JSON. Each is a 400 naming the problem and not the parser's internals, and
   * stores nothing; the same metadata written once registers.
   */
  @Test
  void metadataInMoreThanOneReadingIsRefusedAndStoresNothing() throws Exception {
    HttpResponse<String> registrar =
        json(
            "POST",
            "/sso/v1/clients",
            admins.devToken().orElseThrow(),
            "{\"client_id\": \"registrar-strict\", \"client_name\": \"Registrar\","
                + " \"grant_types\": [\"client_credentials\"], \"scope\": \"client.create\"}");
    assertThat(registrar.statusCode()).as(registrar.body()).isEqualTo(201);
    String secret = JSON.readTree(registrar.body()).path("client_secret").asString();
    String good = "\"redirect_uris\": [\"https://permits.example.gov.cn/cb\"]";
    long before = clients();
    Map<String, String> refused = new java.util.LinkedHashMap<>();
    refused.put(
        "{\"client_name\": \"A\", "
            + good
            + ", \"redirect_uris\": [\"https://evil.example.com/cb\"]}",
        "a member appears twice");
    refused.put(
        "{\"client_name\": \"A\", \"client_name\": \"B\", " + good + "}", "a member appears twice");
    refused.put("{\"client_name\": 5, " + good + "}", "client_name: a string");
    refused.put("{\"client_name\": [\"A\"], " + good + "}", "client_name: a string");
    refused.put(
        "{\"client_name\": \"A\", \"redirect_uris\": [5]}", "redirect_uris: an array of strings");
    refused.put(
        "{\"client_name\": \"A\", \"redirect_uris\": \"https://permits.example.gov.cn/cb\"}",
        "redirect_uris: an array of strings");
    refused.put(
        "{\"client_name\": \"A\", \"scope\": [\"openid\"], " + good + "}", "scope: a string");
    refused.put(
        "{\"client_name\": \"A\", " + good + ", \"default_acr_values\": [null]}",
        "default_acr_values: an array of strings");
    refused.put("{\"client_name\": \"A\", " + good + "} []", "the body is not JSON");
    refused.put("{\"client_name\": \"A\", ", "the body is not JSON");
    refused.put("[" + good.substring(good.indexOf('[') + 1), "the body is not a JSON object");
    refused.put(
        "{\"client_name\": \"" + "A".repeat(70_000) + "\", " + good + "}",
        "the body is larger than 65536 bytes");
    for (Map.Entry<String, String> e : refused.entrySet()) {
      HttpResponse<String> r =
          json(
              "POST",
              "/connect/register",
              token("registrar-strict", secret, "client.create"),
              e.getKey());
      String what = e.getKey().substring(0, Math.min(80, e.getKey().length()));
      assertThat(r.statusCode()).as(what + " -> " + r.body()).isEqualTo(400);
      assertThat(JSON.readTree(r.body()).path("error_description").asString())
          .as(what)
          .isEqualTo(e.getValue());
      assertThat(r.body()).as(what).doesNotContainIgnoringCase("parse");
    }
    assertThat(clients()).isEqualTo(before);
    HttpResponse<String> once =
        json(
            "POST",
            "/connect/register",
            token("registrar-strict", secret, "client.create"),
            "{\"client_name\": \"A\", " + good + "}");
    assertThat(once.statusCode()).as(once.body()).isEqualTo(201);
    assertThat(clients()).isEqualTo(before + 1);
  }
}
