package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The embedded default starts, reports its key backend UP and writes dev.json. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class NodeStartsTest {
  private static final Path DATA = tempDir();

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("yinxin-ops-");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @DynamicPropertySource
  static void dataDir(DynamicPropertyRegistry r) {
    r.add("yinxin.data-dir", DATA::toString);
  }

  @LocalServerPort int port;

  @Test
  void healthIsUpWithTheKeysComponentAndDevJsonIsWritten() throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"status\":\"UP\"").contains("\"keys\"").contains("\"soft\"");

    Path devJson = DATA.resolve("dev.json");
    assertThat(Files.readString(devJson)).contains("\"baseUrl\" : \"http://127.0.0.1:" + port);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(devJson)))
        .isEqualTo("rw-------");
    assertThat(Files.exists(DATA.resolve("keys").resolve("keystore.password"))).isTrue();
  }
}
