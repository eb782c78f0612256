package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sso.account.DemoUser;
import io.yinxin.sso.http.SsoAdmins;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The outside judge of the OpenID Provider: {@code openid-client} 6.9.0 (npm; an OpenID-certified
 * relying-party library, pinned with its lock file under {@code src/test/openid-client}) runs
 * discovery, authorization code + PKCE with ID token validation, userinfo, introspection, refresh,
 * revocation and RP-initiated logout against this node, for a client registered through the admin
 * API. What the library accepted is checked here; anything it refuses fails the run.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class OpenIdClientJudgeTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-judge");
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;
  @Autowired DemoUser user;

  /** The judge's folder under target/, with its dependencies installed from the lock file. */
  private static Path judge() throws Exception {
    Path dir = Path.of("target", "openid-client-judge").toAbsolutePath();
    Files.createDirectories(dir);
    for (String f : List.of("package.json", "package-lock.json", "judge.mjs")) {
      Files.copy(
          Path.of("src", "test", "openid-client", f),
          dir.resolve(f),
          StandardCopyOption.REPLACE_EXISTING);
    }
    if (!Files.isDirectory(dir.resolve("node_modules").resolve("openid-client"))) {
      run(dir, List.of("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"), 300);
    }
    return dir;
  }

  private static String run(Path dir, List<String> command, int seconds) throws Exception {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(seconds, TimeUnit.SECONDS)).isTrue();
    String text = new String(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + text).isZero();
    return text;
  }

  @Test
  void openidClientCompletesEveryFlowAgainstTheProvider() throws Exception {
    String base = "http://127.0.0.1:" + port;
    String redirect = "http://127.0.0.1:9/callback";
    String bye = "http://127.0.0.1:9/signed-out";
    HttpResponse<String> registered =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(base + "/sso/v1/clients"))
                    .header("Authorization", "Bearer " + admins.devToken().orElseThrow())
                    .header("Content-Type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"client_id\": \"rp-judge\", \"client_name\": \"openid-client\","
                                + " \"grant_types\": [\"authorization_code\", \"refresh_token\"],"
                                + " \"redirect_uris\": [\""
                                + redirect
                                + "\"], \"post_logout_redirect_uris\": [\""
                                + bye
                                + "\"], \"scope\": \"openid profile\"}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(registered.statusCode()).as(registered.body()).isEqualTo(201);
    String secret = JSON.readTree(registered.body()).path("client_secret").asString();

    List<String> command = new ArrayList<>(List.of("node", "judge.mjs"));
    command.addAll(
        List.of(
            base,
            "rp-judge",
            secret,
            user.username(),
            user.password().orElseThrow(),
            redirect,
            bye));
    String out = run(judge(), command, 120).strip();
    JsonNode seen = JSON.readTree(out.substring(out.lastIndexOf('\n') + 1));
    assertThat(seen.path("issuer").asString()).isEqualTo(base);
    assertThat(seen.path("idToken").path("sub").asString()).isEqualTo(user.username());
    assertThat(seen.path("idToken").path("aud").toString()).contains("rp-judge");
    assertThat(seen.path("idToken").path("nonceMatched").asBoolean()).isTrue();
    assertThat(seen.path("userinfo").path("sub").asString()).isEqualTo(user.username());
    assertThat(seen.path("introspectionActive").asBoolean()).isTrue();
    assertThat(seen.path("refreshRotated").asBoolean()).isTrue();
    assertThat(seen.path("revokedActive").asBoolean()).isFalse();
    assertThat(seen.path("logoutStatus").asInt()).as(out).isEqualTo(302);
    assertThat(seen.path("logoutLocation").asString()).isEqualTo(bye + "?state=bye");
    assertThat(seen.path("afterLogout").asString()).as(out).endsWith("/login");
  }
}
