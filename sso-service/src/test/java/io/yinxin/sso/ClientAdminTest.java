package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sso.http.SsoAdmins;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Base64;
import java.util.List;
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
 * The client admin API over HTTP: a registered client's secret works at the token endpoint (and
 * only its keyed hash is stored), a rotated secret replaces the old one at once, a deleted client's
 * tokens stop; every change is a CONFIG_CHANGED audit event; the bad metadata an attacker or a
 * careless operator sends is refused with RFC 7591's error and stores nothing.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ClientAdminTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-admin");
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;
  @Autowired DataSource dataSource;
  private final HttpClient http = HttpClient.newHttpClient();

  private String admin() {
    return admins.devToken().orElseThrow();
  }

  private HttpResponse<String> send(String method, String path, String token, String body)
      throws Exception {
    return Browser.json("http://127.0.0.1:" + port, method, path, token, body);
  }

  private JsonNode register(String body) throws Exception {
    HttpResponse<String> r = send("POST", "/sso/v1/clients", admin(), body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
    return JSON.readTree(r.body());
  }

  private HttpResponse<String> clientCredentials(String id, String secret, String scope)
      throws Exception {
    String basic =
        Base64.getEncoder().encodeToString((id + ":" + secret).getBytes(StandardCharsets.UTF_8));
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/oauth2/token"))
            .header("Authorization", "Basic " + basic)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "grant_type=client_credentials&scope="
                        + URLEncoder.encode(scope, StandardCharsets.UTF_8)))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private long count(String sql, String arg) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      if (arg != null) {
        ps.setString(1, arg);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private long clients() throws Exception {
    return count("SELECT count(*) FROM sso.oauth2_registered_client", null);
  }

  private long configEvents() throws Exception {
    return count("SELECT count(*) FROM audit.events WHERE type = 'CONFIG_CHANGED'", null);
  }

  @Test
  void aRegisteredClientGetsTokensWithItsSecretUntilRotatedOrDeleted() throws Exception {
    JsonNode c =
        register(
            """
            {"client_id": "tax-portal", "client_name": "税务门户 Tax portal",
             "grant_types": ["client_credentials"], "scope": "ca:read audit:read",
             "access_token_ttl": 120}""");
    String secret = c.path("client_secret").asString();
    assertThat(secret).matches("[0-9a-f]{64}");
    assertThat(c.path("client_id").asString()).isEqualTo("tax-portal");
    HttpResponse<String> t = clientCredentials("tax-portal", secret, "ca:read");
    assertThat(t.statusCode()).as(t.body()).isEqualTo(200);
    assertThat(JSON.readTree(t.body()).path("expires_in").asInt()).isBetween(118, 120);
    // A scope it was not registered for is refused.
    assertThat(clientCredentials("tax-portal", secret, "ca:issue").statusCode()).isEqualTo(400);
    // Stored: the keyed hash, never the secret.
    try (Connection conn = dataSource.getConnection();
        PreparedStatement ps =
            conn.prepareStatement(
                "SELECT client_secret FROM sso.oauth2_registered_client WHERE client_id = ?")) {
      ps.setString(1, "tax-portal");
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).startsWith("{hmac-sha256}").doesNotContain(secret);
      }
    }
    // Read back without the secret.
    HttpResponse<String> got = send("GET", "/sso/v1/clients/tax-portal", admin(), null);
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(got.body()).doesNotContain(secret).contains("税务门户");
    assertThat(send("GET", "/sso/v1/clients", admin(), null).body()).contains("tax-portal");

    HttpResponse<String> rotated = send("POST", "/sso/v1/clients/tax-portal/secret", admin(), null);
    assertThat(rotated.statusCode()).isEqualTo(200);
    String fresh = JSON.readTree(rotated.body()).path("client_secret").asString();
    assertThat(clientCredentials("tax-portal", secret, "ca:read").statusCode()).isEqualTo(401);
    assertThat(clientCredentials("tax-portal", fresh, "ca:read").statusCode()).isEqualTo(200);

    assertThat(send("DELETE", "/sso/v1/clients/tax-portal", admin(), null).statusCode())
        .isEqualTo(204);
    assertThat(clientCredentials("tax-portal", fresh, "ca:read").statusCode()).isEqualTo(401);
    assertThat(send("GET", "/sso/v1/clients/tax-portal", admin(), null).statusCode())
        .isEqualTo(404);
    assertThat(
            count(
                "SELECT count(*) FROM audit.events WHERE type = 'CONFIG_CHANGED' AND subject = ?",
                "client/tax-portal"))
        .isEqualTo(3);
  }

  @Test
  void metadataCanBeReplacedButNotTurnedFromConfidentialToPublic() throws Exception {
    register(
        """
        {"client_id": "permits", "client_name": "Permits",
         "redirect_uris": ["https://permits.example.gov.cn/cb"], "scope": "openid"}""");
    HttpResponse<String> r =
        send(
            "PUT",
            "/sso/v1/clients/permits",
            admin(),
            """
            {"client_name": "Permits 2", "redirect_uris": ["https://permits.example.gov.cn/cb2"],
             "scope": "openid profile", "backchannel_logout_uri": "https://permits.example.gov.cn/bc"}""");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode m = JSON.readTree(r.body());
    assertThat(m.path("redirect_uris").toString())
        .isEqualTo("[\"https://permits.example.gov.cn/cb2\"]");
    assertThat(m.path("backchannel_logout_uri").asString())
        .isEqualTo("https://permits.example.gov.cn/bc");
    HttpResponse<String> toPublic =
        send(
            "PUT",
            "/sso/v1/clients/permits",
            admin(),
            """
            {"client_name": "P", "redirect_uris": ["https://permits.example.gov.cn/cb"],
             "token_endpoint_auth_method": "none"}""");
    assertThat(toPublic.statusCode()).isEqualTo(400);
    assertThat(send("GET", "/sso/v1/clients/permits", admin(), null).body()).contains("Permits 2");
  }

  @Test
  void badMetadataIsRefusedAndStoresNothing() throws Exception {
    long clients = clients();
    long events = configEvents();
    String ok = "\"client_name\": \"x\", ";
    List<String> bodies =
        List.of(
            "{" + ok + "\"redirect_uris\": [\"https://*.example.gov.cn/cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"https://a.example.gov.cn/cb#frag\"]}",
            "{" + ok + "\"redirect_uris\": [\"http://a.example.gov.cn/cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"http://localhost:8000/cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"https://A.example.gov.cn/cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"HTTPS://a.example.gov.cn/cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"https://a.example.gov.cn:443/cb\"]}",
            // A port that does not exist or is written two ways; a path a browser rewrites.
            "{" + ok + "\"redirect_uris\": [\"https://a.example.gov.cn:99999/cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"https://a.example.gov.cn:0/cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"https://a.example.gov.cn:08443/cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"https://a.example.gov.cn:/cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"https://a.example.gov.cn/x/../cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"https://a.example.gov.cn/./cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"https://a.example.gov.cn/x/%2E%2E/cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"cn.gov.example.app:/x/../cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"https://user@a.example.gov.cn/cb\"]}",
            "{" + ok + "\"redirect_uris\": [\"javascript:alert(1)\"]}",
            "{" + ok + "\"redirect_uris\": [\"/relative/cb\"]}",
            "{" + ok + "\"redirect_uris\": []}",
            "{" + ok + "\"redirect_uris\": [\"https://a.gov.cn/\", \"https://a.gov.cn/\"]}",
            "{" + ok + "\"grant_types\": [\"password\"]}",
            "{"
                + ok
                + "\"grant_types\": [\"implicit\"], \"redirect_uris\": [\"https://a.gov.cn/\"]}",
            "{" + ok + "\"grant_types\": [\"refresh_token\"]}",
            "{"
                + ok
                + "\"grant_types\": [\"client_credentials\"], \"token_endpoint_auth_method\":"
                + " \"none\"}",
            "{" + ok + "\"grant_types\": [\"client_credentials\"], \"access_token_ttl\": 1e30}",
            "{"
                + ok
                + "\"grant_types\": [\"client_credentials\"], \"access_token_ttl\":"
                + " 99999999999999999999999}",
            "{" + ok + "\"grant_types\": [\"client_credentials\"], \"access_token_ttl\": -1}",
            "{" + ok + "\"grant_types\": [\"client_credentials\"], \"access_token_ttl\": \"300\"}",
            "{" + ok + "\"grant_types\": [\"client_credentials\"], \"access_token_ttl\": 300.5}",
            // ID tokens are signed with the provider's keys only: no HMAC, no "none", no lower
            // case.
            "{"
                + ok
                + "\"redirect_uris\": [\"https://a.gov.cn/\"], \"id_token_signed_response_alg\": \"none\"}",
            "{"
                + ok
                + "\"redirect_uris\": [\"https://a.gov.cn/\"], \"id_token_signed_response_alg\": \"HS256\"}",
            "{"
                + ok
                + "\"redirect_uris\": [\"https://a.gov.cn/\"], \"id_token_signed_response_alg\": \"es256\"}",
            "{"
                + ok
                + "\"redirect_uris\": [\"https://a.gov.cn/\"], \"id_token_signed_response_alg\": [\"ES256\"]}",
            "{" + ok + "\"grant_types\": [\"client_credentials\"], \"scope\": \"a\\\"b\"}",
            "{" + ok + "\"grant_types\": [\"client_credentials\"], \"scope\": \"a  b\"}",
            "{"
                + ok
                + "\"grant_types\": [\"client_credentials\"], \"scope\": \""
                + java.util.stream.IntStream.range(0, 31)
                    .mapToObj(i -> "s" + i)
                    .collect(java.util.stream.Collectors.joining(" "))
                + "\"}",
            "{\"client_name\": \""
                + "名".repeat(101)
                + "\", \"grant_types\": [\"client_credentials\"]}",
            "{\"client_name\": \"a\\u0000b\", \"grant_types\": [\"client_credentials\"]}",
            "{\"grant_types\": [\"client_credentials\"]}",
            "{" + ok + "\"grant_types\": [\"client_credentials\"], \"client_id\": \"UPPER\"}",
            "{" + ok + "\"grant_types\": [\"client_credentials\"], \"client_id\": 7}",
            "{" + ok + "\"grant_types\": [\"client_credentials\"], \"client_secret\": \"mine\"}",
            "{" + ok + "\"grant_types\": [\"client_credentials\"], \"client_name\": \"twice\"}",
            "{" + ok + "\"grant_types\": [\"client_credentials\"], \"require_consent\": \"no\"}",
            "{"
                + ok
                + "\"grant_types\": [\"client_credentials\"], \"backchannel_logout_uri\":"
                + " \"myapp.example://x\"}",
            "{"
                + ok
                + "\"grant_types\": [\"client_credentials\"], \"token_endpoint_auth_method\":"
                + " \"private_key_jwt\"}",
            "{"
                + ok
                + "\"grant_types\": [\"client_credentials\"], \"token_endpoint_auth_method\":"
                + " \"private_key_jwt\", \"jwks_uri\": \"https://a.gov.cn/jwks\","
                + " \"token_endpoint_auth_signing_alg\": \"HS256\"}",
            "{"
                + ok
                + "\"grant_types\": [\"client_credentials\"], \"jwks_uri\":"
                + " \"https://a.gov.cn/jwks\"}",
            // Levels this provider states, each once, in an array.
            "{"
                + ok
                + "\"redirect_uris\": [\"https://a.gov.cn/\"], \"default_acr_values\": [\"gold\"]}",
            "{"
                + ok
                + "\"redirect_uris\": [\"https://a.gov.cn/\"], \"default_acr_values\":"
                + " \"urn:yinxin:loa:2\"}",
            "{"
                + ok
                + "\"redirect_uris\": [\"https://a.gov.cn/\"], \"default_acr_values\":"
                + " [\"urn:yinxin:loa:2\", \"urn:yinxin:loa:2\"]}",
            "{"
                + ok
                + "\"redirect_uris\": [\"https://a.gov.cn/\"], \"default_acr_values\":"
                + " [\"URN:yinxin:loa:2\"]}",
            "{"
                + ok
                + "\"redirect_uris\": [\"https://a.gov.cn/\"], \"minimum_acr\": \"urn:yinxin:loa:3\"}",
            "{"
                + ok
                + "\"redirect_uris\": [\"https://a.gov.cn/\"], \"minimum_acr\": [\"urn:yinxin:loa:2\"]}",
            "[1, 2]",
            "not json");
    for (String body : bodies) {
      HttpResponse<String> r = send("POST", "/sso/v1/clients", admin(), body);
      assertThat(r.statusCode()).as(body + " → " + r.body()).isEqualTo(400);
      assertThat(JSON.readTree(r.body()).path("error").asString())
          .as(body)
          .isIn("invalid_client_metadata", "invalid_redirect_uri", "invalid_request");
    }
    HttpResponse<String> big =
        send(
            "POST",
            "/sso/v1/clients",
            admin(),
            "{\"client_name\": \"" + "a".repeat(70_000) + "\"}");
    assertThat(big.statusCode()).isEqualTo(413);
    HttpResponse<String> plain =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/sso/v1/clients"))
                .header("Authorization", "Bearer " + admin())
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"client_name\": \"x\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(plain.statusCode()).isEqualTo(400);
    // A taken client id is a conflict, and changes nothing either.
    assertThat(
            send(
                    "POST",
                    "/sso/v1/clients",
                    admin(),
                    "{\"client_id\": \"yinxin-demo\", \"client_name\": \"x\", \"grant_types\":"
                        + " [\"client_credentials\"]}")
                .statusCode())
        .isEqualTo(409);
    assertThat(clients()).isEqualTo(clients);
    assertThat(configEvents()).isEqualTo(events);
  }

  @Test
  void onlyAnAdministratorMayManageClients() throws Exception {
    String body = "{\"client_name\": \"x\", \"grant_types\": [\"client_credentials\"]}";
    assertThat(send("POST", "/sso/v1/clients", null, body).statusCode()).isEqualTo(401);
    HttpResponse<String> wrong = send("POST", "/sso/v1/clients", "yx_not-the-token", body);
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.headers().firstValue("WWW-Authenticate")).isPresent();
    // An access token of this provider: without sso:admin 403, with it allowed (and the client is
    // the audited actor).
    JsonNode ops =
        register(
            """
            {"client_id": "ops-console", "client_name": "Ops console",
             "grant_types": ["client_credentials"], "scope": "sso:admin ca:read"}""");
    String secret = ops.path("client_secret").asString();
    String reader =
        JSON.readTree(clientCredentials("ops-console", secret, "ca:read").body())
            .path("access_token")
            .asString();
    assertThat(send("GET", "/sso/v1/clients", reader, null).statusCode()).isEqualTo(403);
    String adminToken =
        JSON.readTree(clientCredentials("ops-console", secret, "sso:admin").body())
            .path("access_token")
            .asString();
    HttpResponse<String> made =
        send(
            "POST",
            "/sso/v1/clients",
            adminToken,
            "{\"client_id\": \"made-by-console\", \"client_name\": \"x\", \"grant_types\":"
                + " [\"client_credentials\"]}");
    assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
    assertThat(
            count(
                "SELECT count(*) FROM audit.events WHERE type = 'CONFIG_CHANGED' AND subject = ?"
                    + " AND actor = 'ops-console'",
                "client/made-by-console"))
        .isEqualTo(1);
    // A token signed by someone else is not an administrator's.
    String[] parts = adminToken.split("\\.");
    String tampered = parts[0] + "." + parts[1] + "." + new StringBuilder(parts[2]).reverse();
    assertThat(send("GET", "/sso/v1/clients", tampered, null).statusCode()).isEqualTo(401);
  }
}
