package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.context.ConfigurableApplicationContext;

/** Under the prod profile, software keys are refused unless explicitly allowed. */
@org.junit.jupiter.api.extension.ExtendWith(
    org.springframework.boot.test.system.OutputCaptureExtension.class)
class ProductionRefusesSoftKeysTest {

  @Test
  void prodProfileWithSoftKeysDoesNotStart() throws Exception {
    String data = Files.createTempDirectory("yinxin-prod-").toString();
    assertThatThrownBy(
            () ->
                new SpringApplicationBuilder(YinxinApplication.class)
                    .profiles("prod")
                    .run(
                        "--server.port=0",
                        "--yinxin.data-dir=" + data,
                        "--yinxin.keys.soft.enabled=true")
                    .close())
        .hasStackTraceContaining("software key backend is for development only");
  }

  @Test
  void prodProfileWithoutAnyKeyBackendDoesNotStartAndSaysWhatToSet(CapturedOutput output)
      throws Exception {
    String data = Files.createTempDirectory("yinxin-prod-").toString();
    assertThatThrownBy(
            () ->
                new SpringApplicationBuilder(YinxinApplication.class)
                    .profiles("prod")
                    .run("--server.port=0", "--yinxin.data-dir=" + data)
                    .close())
        .hasStackTraceContaining("no key backend is configured");
    // Spring Boot's failure-analysis block, with the one useful sentence and what to set.
    assertThat(output.getOut() + output.getErr())
        .contains("APPLICATION FAILED TO START")
        .contains("Description:")
        .contains("Yinxin cannot start: no key backend is configured")
        .contains("Action:")
        .contains(
            "Set what the description asks of yinxin.keys.pkcs11.library,"
                + " yinxin.keys.vault.address")
        .contains("YINXIN_KEYS_PKCS11_LIBRARY, YINXIN_KEYS_VAULT_ADDRESS");
  }

  @Test
  void jsonLogsOnRequestCarryTheFailureAnalysisToo(CapturedOutput output) throws Exception {
    String data = Files.createTempDirectory("yinxin-prod-").toString();
    assertThatThrownBy(
            () ->
                new SpringApplicationBuilder(YinxinApplication.class)
                    .profiles("prod")
                    .run(
                        "--server.port=0",
                        "--yinxin.data-dir=" + data,
                        "--logging.structured.format.console=ecs")
                    .close())
        .hasStackTraceContaining("no key backend is configured");
    tools.jackson.databind.json.JsonMapper json =
        tools.jackson.databind.json.JsonMapper.builder().build();
    java.util.List<tools.jackson.databind.JsonNode> lines =
        output.getOut().lines().filter(l -> l.startsWith("{")).map(json::readTree).toList();
    assertThat(lines).isNotEmpty();
    assertThat(lines).allMatch(n -> n.has("@timestamp") && n.has("message"));
    assertThat(lines)
        .anyMatch(
            n ->
                "ERROR".equals(n.path("log").path("level").asString(n.path("log.level").asString()))
                    && n.path("message")
                        .asString()
                        .contains("Yinxin cannot start: no key backend"));
  }

  @Test
  void prodProfileStartsOnPostgresqlWhenSoftKeysAreKnowinglyAllowed() throws Exception {
    String data = Files.createTempDirectory("yinxin-prod-").toString();
    io.yinxin.audit.store.PostgresDatabase db = new io.yinxin.audit.store.PostgresDatabase();
    try (ConfigurableApplicationContext ctx =
        new SpringApplicationBuilder(YinxinApplication.class)
            .profiles("prod")
            .run(
                "--server.port=0",
                "--server.address=127.0.0.1",
                "--yinxin.data-dir=" + data,
                "--yinxin.keys.soft.enabled=true",
                "--yinxin.keys.soft.allow-in-production=true",
                "--yinxin.sso.issuer=https://sso.example.test",
                "--yinxin.sso.client-secret-key="
                    + java.util.Base64.getEncoder()
                        .encodeToString(new java.security.SecureRandom().generateSeed(32)),
                "--spring.datasource.url=" + db.url(),
                "--spring.datasource.username=" + io.yinxin.audit.store.PostgresDatabase.USER)) {
      assertThat(ctx.isRunning()).isTrue();
      // The embedded default lets ACME validate .localhost names on loopback; production not.
      assertThat(ctx.getBean(io.yinxin.ca.spring.CaProperties.class).acme().allowLocalhost())
          .isFalse();
    }
  }
}
