package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.hsm.testing.FakeVaultTransitServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * {@code yinxin ca init} under {@code prod} checks everything it will need before it creates
 * anything: with the CA keys in an HSM-like backend (Vault Transit, here the fake) and software
 * keys off, the built-in SM2 CAs cannot have their keys, so it stops with a failure-analysis block
 * saying so — and the backend holds no CA key and the database no CA afterwards. The audit
 * checkpoint key is checked the same way.
 */
@ExtendWith(OutputCaptureExtension.class)
class ProductionCaInitTest {
  private static final String TOKEN = "s.ca-init-" + System.nanoTime();

  private static List<String> prodArgs(
      FakeVaultTransitServer vault, PostgresDatabase db, Path dir, String... more)
      throws Exception {
    Path tokenFile = dir.resolve("vault-token");
    Files.writeString(tokenFile, TOKEN);
    List<String> args =
        new ArrayList<>(
            List.of(
                "--yinxin.data-dir=" + dir.resolve("data"),
                "--spring.datasource.url=" + db.url(),
                "--spring.datasource.username=" + PostgresDatabase.USER,
                "--yinxin.keys.vault.address=" + vault.address(),
                "--yinxin.keys.vault.token-file=" + tokenFile,
                "--yinxin.ca.key-backend=vault-transit",
                "--yinxin.ca.public-url=https://ca.example.test",
                "--yinxin.sso.key-backend=vault-transit",
                "--yinxin.sso.issuer=https://sso.example.test",
                "--yinxin.sso.client-secret-key="
                    + Base64.getEncoder()
                        .encodeToString(new java.security.SecureRandom().generateSeed(32)),
                "--yinxin.ca.init-on-start=false",
                "--yinxin.ca.init-only=true"));
    args.addAll(List.of(more));
    return args;
  }

  private static Throwable start(List<String> args) {
    try {
      new SpringApplicationBuilder(YinxinApplication.class)
          .profiles("prod")
          .web(WebApplicationType.NONE)
          .run(args.toArray(String[]::new))
          .close();
      return null;
    } catch (RuntimeException e) {
      return e;
    }
  }

  @Test
  void caInitRefusesBeforeCreatingAnythingWhenTheSm2CasHaveNoKeyBackend(CapturedOutput output)
      throws Exception {
    Path dir = Files.createTempDirectory("yinxin-ca-init-");
    PostgresDatabase db = new PostgresDatabase();
    try (FakeVaultTransitServer vault = new FakeVaultTransitServer(TOKEN, "transit")) {
      Throwable failure =
          start(
              prodArgs(
                  vault, db, dir, "--yinxin.audit.checkpoint-key=vault-transit:audit-checkpoint"));
      assertThat(failure).isNotNull();
      assertThat(output.getOut() + output.getErr())
          .contains("APPLICATION FAILED TO START")
          .contains("Description:")
          .contains(
              "Yinxin cannot start: nothing was created: the soft key backend is not configured,"
                  + " but CA sm2-root")
          .contains("Action:")
          .contains("yinxin.keys.soft.enabled, yinxin.keys.soft.allow-in-production");
      // Nothing in the key backend for the CAs, nothing in the database.
      assertThat(vault.requests())
          .noneMatch(r -> r.path().startsWith("/v1/transit/keys/ca-") && !r.method().equals("GET"));
      try (Connection c = DriverManager.getConnection(db.url(), PostgresDatabase.USER, "");
          ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM ca.authorities")) {
        rs.next();
        assertThat(rs.getLong(1)).isZero();
      }
    }
  }

  @Test
  void aSoftCheckpointKeyUnderProdSaysWhatToSet(CapturedOutput output) throws Exception {
    Path dir = Files.createTempDirectory("yinxin-ca-init-");
    PostgresDatabase db = new PostgresDatabase();
    try (FakeVaultTransitServer vault = new FakeVaultTransitServer(TOKEN, "transit")) {
      assertThatThrownBy(
              () -> {
                Throwable t = start(prodArgs(vault, db, dir));
                if (t != null) {
                  throw t;
                }
              })
          .hasStackTraceContaining("yinxin.audit.checkpoint-key is soft:audit-checkpoint");
      assertThat(output.getOut() + output.getErr())
          .contains("Description:")
          .contains("Yinxin cannot start: yinxin.audit.checkpoint-key is soft:audit-checkpoint")
          .contains("Action:")
          .contains("YINXIN_AUDIT_CHECKPOINT_KEY");
    }
  }
}
