package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Under the prod profile, software keys are refused unless explicitly allowed. */
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
  void prodProfileWithoutAnyKeyBackendDoesNotStart() throws Exception {
    String data = Files.createTempDirectory("yinxin-prod-").toString();
    assertThatThrownBy(
            () ->
                new SpringApplicationBuilder(YinxinApplication.class)
                    .profiles("prod")
                    .run("--server.port=0", "--yinxin.data-dir=" + data)
                    .close())
        .hasStackTraceContaining("no key backend is configured");
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
