package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Slow clients against a real node whose Tomcat has 20 request threads (200 in production): the
 * attack that took every thread of the embedded default — connections that declare a small body and
 * send it a byte at a time — must leave the node answering everyone else.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class BodyReadAheadTest {
  private static final Path DATA = tempDir();

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("yinxin-slow-");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry r) {
    r.add("yinxin.data-dir", DATA::toString);
    r.add("server.tomcat.threads.max", () -> "20");
    r.add("yinxin.http.read-ahead-timeout", () -> "3s");
    r.add("yinxin.http.streamed-bodies", () -> "1");
  }

  @LocalServerPort int port;

  private final HttpClient http = HttpClient.newHttpClient();

  /** A connection that has sent a request's head and {@code sent} zero bytes of its body. */
  private Socket slow(String path, String headers, long declared, int sent) throws Exception {
    return slow(path, headers, declared, new byte[sent]);
  }

  /** A connection that has sent a request's head and the start of its body. */
  private Socket slow(String path, String headers, long declared, byte[] sent) throws Exception {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(10_000);
    OutputStream out = s.getOutputStream();
    out.write(
        ("POST "
                + path
                + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + headers
                + "Content-Length: "
                + declared
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.write(sent);
    out.flush();
    return s;
  }

  /** The status line and headers of the answer on {@code s}. */
  private static String head(Socket s) throws Exception {
    InputStream in = s.getInputStream();
    StringBuilder b = new StringBuilder();
    while (b.indexOf("\r\n\r\n") < 0) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      b.append((char) c);
    }
    return b.toString();
  }

  @Test
  void fortySlowBodiesLeaveTheNodeAnsweringAndEachIsAnswered408AtItsDeadline() throws Exception {
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 20; i++) {
        slow.add(slow("/tsa", "Content-Type: application/timestamp-query\r\n", 100, 1));
        slow.add(slow("/audit/v1/entries", "Content-Type: application/json\r\n", 500, 1));
      }
      Thread.sleep(300); // all forty are being read
      long start = System.nanoTime();
      HttpResponse<String> health =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      // A time-stamp, a body of its own, is served meanwhile too.
      assertThat(NodeProcesses.timeStamp("http://127.0.0.1:" + port, new byte[] {5})).isPositive();
      assertThat((System.nanoTime() - start) / 1e9).as("seconds").isLessThan(2.5);

      // At the deadline (3 s) each slow body is answered 408 and its connection closed.
      for (Socket s : slow) {
        assertThat(head(s)).startsWith("HTTP/1.1 408").contains("Connection: close");
        assertThat(s.getInputStream().readAllBytes()).as("the rest, then closed").isNotEmpty();
      }
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
  }

  /**
   * A form read ahead still has its parameters: the token endpoint takes the grant type from the
   * body (the container's own parameter parsing found that body already read).
   */
  @Test
  void aFormBodyReadAheadKeepsItsParameters() throws Exception {
    String dev = Files.readString(DATA.resolve("dev.json"));
    HttpResponse<String> token =
        NodeProcesses.clientCredentials(
            "http://127.0.0.1:" + port, "yinxin-demo", NodeStartsTest.field(dev, "secret"));
    assertThat(token.statusCode()).as(token.body()).isEqualTo(200);
    assertThat(token.body()).contains("\"access_token\"");
  }

  /**
   * A body above the read-ahead limit is read by its endpoint as it arrives, one at a time here
   * ({@code yinxin.http.streamed-bodies=1}): a second one is answered 503 with Retry-After before a
   * byte of it is read.
   */
  private static final byte[] PDF_START = "%PDF-1.7\n".getBytes(StandardCharsets.US_ASCII);

  @Test
  void largeBodiesBeyondTheLimitAreRefusedAtOnce() throws Exception {
    String dev = Files.readString(DATA.resolve("dev.json"));
    String sealPath = "/sign/v1/seals/" + NodeStartsTest.field(dev, "demoSealId") + "/sign";
    String auth = "Authorization: Bearer " + NodeStartsTest.field(dev, "sealToken") + "\r\n";
    try (Socket first =
        slow(sealPath, auth + "Content-Type: application/pdf\r\n", 4_000_000, PDF_START)) {
      Thread.sleep(500); // the first is being read by the sealer
      try (Socket second =
          slow(sealPath, auth + "Content-Type: application/pdf\r\n", 4_000_000, PDF_START)) {
        assertThat(head(second))
            .startsWith("HTTP/1.1 503")
            .contains("Retry-After: 1")
            .contains("Connection: close");
      }
      assertThat(first.getInputStream().available()).as("the first is not answered").isZero();
    }
  }

  /** Form decoding of random pairs encoded by the JDK's {@code URLEncoder}. */
  @Test
  void formsDecodeAsTheJdkDecodesThem() {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    String alphabet = "ab=&+%中文 é~!*'()";
    for (int i = 0; i < 2000; i++) {
      Map<String, List<String>> expected = new LinkedHashMap<>();
      StringBuilder form = new StringBuilder();
      int pairs = random.nextInt(4);
      for (int p = 0; p < pairs; p++) {
        String k = randomText(random, alphabet, 1 + random.nextInt(5));
        String v = randomText(random, alphabet, random.nextInt(6));
        expected.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        if (form.length() > 0) {
          form.append('&');
        }
        form.append(URLEncoder.encode(k, StandardCharsets.UTF_8))
            .append('=')
            .append(URLEncoder.encode(v, StandardCharsets.UTF_8));
      }
      Map<String, List<String>> decoded = new LinkedHashMap<>();
      // The body's bytes as ISO-8859-1 characters, as the filter hands them over.
      BodyReadAhead.Buffered.decodeForm(
          new String(form.toString().getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1),
          StandardCharsets.UTF_8,
          decoded);
      assertThat(decoded).as("seed %d, form %s", seed, form).isEqualTo(expected);
    }
    // A pair that does not decode is skipped, the others kept.
    Map<String, List<String>> decoded = new LinkedHashMap<>();
    BodyReadAhead.Buffered.decodeForm("a=%zz&b=1&c=%4", StandardCharsets.UTF_8, decoded);
    assertThat(decoded).isEqualTo(Map.of("b", List.of("1")));
  }

  private static String randomText(SplittableRandom random, String alphabet, int n) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      b.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return b.toString();
  }
}
