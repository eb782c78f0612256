package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code yinxin.modules}: a node runs only the modules it names. A {@code ca,audit} node serves the
 * CA and the log and no OpenID Provider or signing API; an {@code sso} node started beside it
 * appends its evidence to the first node's log ({@code yinxin.audit.remote.url}) and serves neither
 * the CA nor a log of its own. Contradictory or unknown selections stop the start with a sentence
 * that names the setting.
 */
class ModuleSelectionTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private final List<ConfigurableApplicationContext> nodes = new ArrayList<>();

  @AfterEach
  void stop() {
    nodes.forEach(ConfigurableApplicationContext::close);
  }

  private ConfigurableApplicationContext node(String... args) {
    ConfigurableApplicationContext ctx =
        new SpringApplicationBuilder(YinxinApplication.class).run(args);
    nodes.add(ctx);
    return ctx;
  }

  private static String base(ConfigurableApplicationContext ctx) {
    return "http://127.0.0.1:" + ((WebServerApplicationContext) ctx).getWebServer().getPort();
  }

  private static int status(String url) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static String body(String url) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(url).isEqualTo(200);
    return r.body();
  }

  @Test
  void eachNodeServesOnlyTheModulesItNames() throws Exception {
    Path dataA = Files.createTempDirectory("yinxin-modules-a-");
    ConfigurableApplicationContext a =
        node("--server.port=0", "--yinxin.data-dir=" + dataA, "--yinxin.modules=ca, audit");
    String baseA = base(a);
    assertThat(body(baseA + "/audit/checkpoint")).contains("/audit\n");
    assertThat(body(baseA + "/ca/v1/cas/root/certificate?format=pem"))
        .contains("BEGIN CERTIFICATE");
    assertThat(status(baseA + "/.well-known/openid-configuration")).isEqualTo(404);
    assertThat(a.getBeanNamesForType(io.yinxin.sso.spring.SsoAutoConfiguration.class)).isEmpty();
    assertThat(a.getBeanNamesForType(io.yinxin.sign.spring.SignAutoConfiguration.class)).isEmpty();
    assertThat(a.getBeanNamesForType(io.yinxin.ca.spring.CaAutoConfiguration.class)).isNotEmpty();
    // A browser still gets the bilingual error page, not Spring's Whitelabel page.
    HttpResponse<String> page =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(baseA + "/ca/no-such-page"))
                .header("Accept", "text/html")
                .header("Accept-Language", "en")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(page.statusCode()).isEqualTo(404);
    assertThat(page.body()).contains("<html lang=\"en\"", "Page not found", "中文");
    assertThat(page.body()).doesNotContain("Whitelabel");

    // An SSO-only node records its evidence in A's log.
    String writer =
        JsonMapper.builder()
            .build()
            .readTree(Files.readString(dataA.resolve("dev.json")))
            .path("auditWriterToken")
            .asString();
    Path dataB = Files.createTempDirectory("yinxin-modules-b-");
    Path token = dataB.resolve("audit-writer.token");
    Files.writeString(token, writer);
    long sizeBefore = size(body(baseA + "/audit/checkpoint"));
    ConfigurableApplicationContext b =
        node(
            "--server.port=0",
            "--yinxin.data-dir=" + dataB,
            "--yinxin.modules=sso",
            "--yinxin.audit.remote.url=" + baseA,
            "--yinxin.audit.remote.token-file=" + token);
    String baseB = base(b);
    assertThat(body(baseB + "/.well-known/openid-configuration")).contains("\"issuer\"");
    assertThat(status(baseB + "/audit/checkpoint")).isEqualTo(404);
    assertThat(status(baseB + "/ca/v1/cas/root/certificate?format=pem")).isEqualTo(404);
    assertThat(b.getBeanNamesForType(io.yinxin.audit.spring.AuditAutoConfiguration.class))
        .isEmpty();
    // B's start-up events (its administrator and demo accounts, its signing keys) reach A's log.
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (size(body(baseA + "/audit/checkpoint")) <= sizeBefore && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    assertThat(size(body(baseA + "/audit/checkpoint"))).isGreaterThan(sizeBefore);
  }

  private static long size(String checkpoint) {
    return Long.parseLong(checkpoint.lines().skip(1).findFirst().orElseThrow());
  }

  @Test
  void anUnknownOrContradictorySelectionStopsTheStartNamingTheSetting() throws Exception {
    Path data = Files.createTempDirectory("yinxin-modules-bad-");
    assertThatThrownBy(
            () -> node("--server.port=0", "--yinxin.data-dir=" + data, "--yinxin.modules=ca,cas"))
        .hasStackTraceContaining("yinxin.modules=ca,cas names an unknown module");
    assertThatThrownBy(
            () ->
                node("--server.port=0", "--yinxin.data-dir=" + data, "--yinxin.modules=ca,,audit"))
        .hasStackTraceContaining("names an empty module");
    assertThatThrownBy(
            () ->
                node(
                    "--server.port=0",
                    "--yinxin.data-dir=" + data,
                    "--yinxin.modules=ca,audit",
                    "--yinxin.sso.enabled=true"))
        .hasStackTraceContaining("leaves out sso but yinxin.sso.enabled=true");
    assertThatThrownBy(
            () -> node("--server.port=0", "--yinxin.data-dir=" + data, "--yinxin.modules=ca"))
        .hasStackTraceContaining("set yinxin.audit.remote.url");
    assertThat(data.resolve("keys")).doesNotExist(); // refused before anything was created
  }
}
