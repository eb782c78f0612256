package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.testing.FakeVaultTransitServer;
import io.yinxin.hsm.testing.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Emergency: the CA's key backend goes down (its Vault sealed). What keeps working — OCSP answers
 * signed before, judged by {@code openssl ocsp}; published CRLs; signature validation — and what
 * refuses cleanly — issuance and CRL publication answer 503 {@code KEY_BACKEND_UNAVAILABLE} with
 * {@code Retry-After} and leave no certificate behind; readiness reports DOWN. Unsealed, issuance
 * works again without a restart.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
class KeyBackendDownTest {
  private static final Path DIR = tempDir();
  private static final int PORT = FreePorts.next();
  private static final String TOKEN = "s.down-" + System.nanoTime();
  private static final FakeVaultTransitServer VAULT = vault();
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("yinxin-down-");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static FakeVaultTransitServer vault() {
    try {
      return new FakeVaultTransitServer(TOKEN, "transit");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @DynamicPropertySource
  static void node(DynamicPropertyRegistry r) throws IOException {
    Path tokenFile = DIR.resolve("vault-token");
    Files.writeString(tokenFile, TOKEN);
    r.add("yinxin.data-dir", () -> DIR.resolve("data").toString());
    r.add("server.port", () -> Integer.toString(PORT));
    r.add("yinxin.keys.vault.address", VAULT::address);
    r.add("yinxin.keys.vault.token-file", tokenFile::toString);
    r.add("yinxin.ca.key-backend", () -> "vault-transit");
  }

  @AfterAll
  static void stop() {
    VAULT.close();
  }

  private final HttpClient http = HttpClient.newHttpClient();
  private final String base = "http://127.0.0.1:" + PORT;

  private HttpResponse<String> issue(String operator, Path csr) throws Exception {
    String body =
        JSON.writeValueAsString(
            java.util.Map.of(
                "profile",
                "citizen-sign",
                "csr",
                Files.readString(csr),
                "subject",
                java.util.Map.of("name", "张三", "idNumber", "11010519491231002X")));
    return http.send(
        HttpRequest.newBuilder(URI.create(base + "/ca/v1/certificates"))
            .header("Authorization", operator)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String run(String... command) throws Exception {
    Process p =
        new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    return out;
  }

  /** As browsers and most clients ask (RFC 5019): no nonce, so a cached answer serves. */
  private String ocsp() throws Exception {
    return run(
        "openssl",
        "ocsp",
        "-issuer",
        "ca.pem",
        "-cert",
        "cert.pem",
        "-url",
        base + "/ca/ocsp",
        "-CAfile",
        "chain.pem",
        "-no_nonce");
  }

  /** With a nonce the answer must be signed for this request. */
  private String ocspWithNonce() throws Exception {
    return run(
        "openssl",
        "ocsp",
        "-issuer",
        "ca.pem",
        "-cert",
        "cert.pem",
        "-url",
        base + "/ca/ocsp",
        "-CAfile",
        "chain.pem");
  }

  private long certificates(String operator) throws Exception {
    JsonNode r =
        JSON.readTree(
            http.send(
                    HttpRequest.newBuilder(
                            URI.create(base + "/ca/v1/certificates?profile=citizen-sign"))
                        .header("Authorization", operator)
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body());
    return r.path("items").size();
  }

  @Test
  void cachedAnswersKeepWorkingAndSigningRefusesCleanlyUntilTheBackendIsBack() throws Exception {
    JsonNode dev = JSON.readTree(Files.readString(DIR.resolve("data/dev.json")));
    String operator = "Bearer " + dev.path("caOperatorToken").asString();
    io.yinxin.hsm.testing.OpenSsl.Result csr =
        io.yinxin.hsm.testing.OpenSsl.p256Csr(DIR, "k.pem", "/CN=x", "req.csr");
    assertThat(csr.exitCode()).as(csr.output()).isZero();
    HttpResponse<String> issued = issue(operator, DIR.resolve("req.csr"));
    assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
    JsonNode cert = JSON.readTree(issued.body());
    Files.writeString(DIR.resolve("cert.pem"), cert.path("certificate").asString());
    Files.writeString(DIR.resolve("ca.pem"), cert.path("chain").get(0).asString());
    StringBuilder chain = new StringBuilder();
    cert.path("chain").forEach(c -> chain.append(c.asString()));
    Files.writeString(DIR.resolve("chain.pem"), chain.toString());
    // The answer is signed (in Vault) once and cached.
    assertThat(ocsp()).contains("cert.pem: good").contains("Response verify OK");
    long before = certificates(operator);
    // The partition's CRL exists (the first GET publishes it when the scheduler has not yet).
    assertThat(
            http.send(
                    HttpRequest.newBuilder(URI.create(base + "/ca/crl/citizen/0.crl")).build(),
                    HttpResponse.BodyHandlers.ofByteArray())
                .statusCode())
        .isEqualTo(200);

    VAULT.sealed(true);

    // Still answered: the cached OCSP answer, verified by openssl; the published CRL.
    assertThat(ocsp()).contains("cert.pem: good").contains("Response verify OK");
    // A nonce needs a fresh signature: RFC 6960 tryLater, not an internal error.
    assertThat(ocspWithNonce()).contains("Responder Error: trylater (3)");
    assertThat(
            http.send(
                    HttpRequest.newBuilder(URI.create(base + "/ca/crl/citizen/0.crl")).build(),
                    HttpResponse.BodyHandlers.ofByteArray())
                .statusCode())
        .isEqualTo(200);
    // Refused cleanly: 503 with a code and Retry-After, no certificate left behind.
    HttpResponse<String> refused = issue(operator, DIR.resolve("req.csr"));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
    assertThat(refused.headers().firstValue("Retry-After")).hasValue("30");
    assertThat(JSON.readTree(refused.body()).path("code").asString())
        .isEqualTo("KEY_BACKEND_UNAVAILABLE");
    assertThat(refused.body()).doesNotContain("Exception").doesNotContain(TOKEN);
    HttpResponse<String> crl =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/ca/v1/cas/citizen/crls?partition=0"))
                .header("Authorization", operator)
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(crl.statusCode()).as(crl.body()).isEqualTo(503);
    assertThat(certificates(operator)).isEqualTo(before);
    // Load balancers take the node out: readiness is DOWN while the backend is.
    assertThat(
            http.send(
                    HttpRequest.newBuilder(URI.create(base + "/actuator/health/readiness")).build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(503);

    VAULT.sealed(false);

    HttpResponse<String> again = issue(operator, DIR.resolve("req.csr"));
    assertThat(again.statusCode()).as(again.body()).isEqualTo(201);
    assertThat(certificates(operator)).isEqualTo(before + 1);
  }
}
