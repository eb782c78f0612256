package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * TLS at the node, judged from outside by {@code openssl s_client} and {@code curl}: TLS 1.3 and
 * 1.2 with forward-secret AEAD suites are accepted; TLS 1.1, a CBC suite and a static-RSA suite are
 * refused; HSTS is sent over TLS. The key store is made by openssl when the test runs.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class TlsTest {
  private static final Path DIR = keyStore();

  private static Path keyStore() {
    try {
      Path dir = Files.createTempDirectory("yinxin-tls-");
      io.yinxin.hsm.testing.OpenSsl.Result cert =
          io.yinxin.hsm.testing.OpenSsl.selfSignedP256(
              dir,
              "key.pem",
              "cert.pem",
              "/CN=localhost",
              "-days",
              "2",
              "-addext",
              "subjectAltName=IP:127.0.0.1");
      if (cert.exitCode() != 0) {
        throw new IllegalStateException(cert.output());
      }
      run(
          dir,
          "openssl",
          "pkcs12",
          "-export",
          "-in",
          "cert.pem",
          "-inkey",
          "key.pem",
          "-name",
          "yinxin",
          "-out",
          "node.p12",
          "-passout",
          "pass:tls-test");
      return dir;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String run(Path dir, String... command) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    return "exit=" + p.exitValue() + "\n" + out;
  }

  @DynamicPropertySource
  static void tls(DynamicPropertyRegistry r) {
    r.add("yinxin.data-dir", () -> DIR.resolve("data").toString());
    r.add("server.ssl.enabled", () -> "true");
    r.add("server.ssl.key-store", () -> DIR.resolve("node.p12").toString());
    r.add("server.ssl.key-store-type", () -> "PKCS12");
    r.add("server.ssl.key-store-password", () -> "tls-test");
    r.add("server.ssl.key-alias", () -> "yinxin");
  }

  @LocalServerPort int port;

  private String handshake(String... options) throws Exception {
    List<String> cmd =
        new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port));
    cmd.addAll(List.of(options));
    return run(DIR, cmd.toArray(String[]::new));
  }

  @Test
  void onlyTls12And13WithForwardSecretAeadSuites() throws Exception {
    assertThat(handshake("-tls1_3")).contains("New, TLSv1.3, Cipher is TLS_").contains("exit=0");
    assertThat(handshake("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"))
        .contains("New, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256")
        .contains("exit=0");
    // Refused: an older protocol, a CBC suite, RSA key exchange.
    assertThat(handshake("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")).doesNotContain("exit=0");
    assertThat(handshake("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"))
        .doesNotContain("exit=0");
    assertThat(handshake("-tls1_2", "-cipher", "AES128-GCM-SHA256")).doesNotContain("exit=0");
  }

  @Test
  void hstsOverTls() throws Exception {
    String headers =
        run(
            DIR,
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "--cacert",
            "cert.pem",
            "https://127.0.0.1:" + port + "/actuator/health");
    assertThat(headers)
        .contains("exit=0")
        .containsIgnoringCase("strict-transport-security: max-age=31536000; includeSubDomains");
  }
}
