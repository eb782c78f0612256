package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.testing.FreePorts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * Who the node thinks a client is, behind a load balancer and without one. HAProxy (Debian's {@code
 * haproxy}, {@code option forwardfor}) stands in front of the node and connects to it from
 * 127.0.0.2, the address the node is told to trust ({@code
 * server.tomcat.remoteip.trusted-proxies}); clients connect from other loopback addresses, as
 * people from different places would.
 *
 * <p>Before the node read X-Forwarded-For from its proxies, every request through the proxy came
 * from the proxy: twenty wrong passwords from anyone blocked every sign-in in the city for 15
 * minutes, and every audit event named the proxy as its source. A client that is not a trusted
 * proxy must still not choose its own address by sending the header.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "server.tomcat.remoteip.trusted-proxies=127\\.0\\.0\\.2")
class ClientAddressTest {
  private static final Path DATA = tempDir();
  private static final List<Process> PROXIES = new ArrayList<>();

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("yinxin-address-");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @DynamicPropertySource
  static void dataDir(DynamicPropertyRegistry r) {
    r.add("yinxin.data-dir", DATA::toString);
  }

  @LocalServerPort int port;

  @AfterAll
  static void stopProxies() {
    PROXIES.forEach(Process::destroyForcibly);
  }

  /** Starts HAProxy in front of the node, connecting to it from 127.0.0.2; returns its port. */
  private int startProxy() throws Exception {
    int front = FreePorts.next();
    Path cfg = DATA.resolve("haproxy.cfg");
    Files.writeString(
        cfg,
        """
        global
          maxconn 100
        defaults
          mode http
          timeout connect 2s
          timeout client 30s
          timeout server 30s
        frontend yinxin
          bind 127.0.0.1:%d
          option forwardfor
          default_backend node
        backend node
          server node 127.0.0.1:%d source 127.0.0.2
        """
            .formatted(front, port));
    Process p =
        new ProcessBuilder("haproxy", "-f", cfg.toString(), "-db")
            .redirectErrorStream(true)
            .redirectOutput(DATA.resolve("haproxy.log").toFile())
            .start();
    PROXIES.add(p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try (Socket s = new Socket("127.0.0.1", front)) {
        return front;
      } catch (IOException e) {
        assertThat(System.nanoTime()).as("HAProxy listens").isLessThan(deadline);
        Thread.sleep(50);
      }
    }
  }

  record Answer(int status, String location, List<String> cookies, String body) {}

  /**
   * One HTTP/1.1 exchange on a connection opened from {@code from} to {@code to}, read to its end.
   */
  private static Answer exchange(String from, int to, String head, String body) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
      s.connect(new InetSocketAddress("127.0.0.1", to), 5000);
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      out.write(
          (head
                  + "Host: 127.0.0.1:"
                  + to
                  + "\r\nConnection: close\r\nContent-Length: "
                  + b.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.write(b);
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      String text = all.toString(StandardCharsets.UTF_8);
      int end = text.indexOf("\r\n\r\n");
      String[] lines = text.substring(0, end).split("\r\n");
      String location = null;
      boolean chunked = false;
      List<String> cookies = new ArrayList<>();
      for (String line : lines) {
        String lower = line.toLowerCase(Locale.ROOT);
        if (lower.startsWith("location:")) {
          location = line.substring(9).strip();
        } else if (lower.startsWith("set-cookie:")) {
          cookies.add(line.substring(11).strip().split(";")[0]);
        } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
          chunked = true;
        }
      }
      String rest = text.substring(end + 4);
      return new Answer(
          Integer.parseInt(lines[0].substring(9, 12)),
          location,
          cookies,
          chunked ? dechunk(rest) : rest);
    }
  }

  private static String dechunk(String s) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (true) {
      int eol = s.indexOf("\r\n", i);
      int size = Integer.parseInt(s.substring(i, eol).split(";")[0].strip(), 16);
      if (size == 0) {
        return out.toString();
      }
      // Sizes count bytes; the page is ASCII apart from Chinese text, so count in UTF-8.
      byte[] rest = s.substring(eol + 2).getBytes(StandardCharsets.UTF_8);
      String chunk = new String(rest, 0, size, StandardCharsets.UTF_8);
      out.append(chunk);
      i = eol + 2 + chunk.length() + 2;
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /**
   * Signs in through the form, from {@code from} to port {@code to}, with this X-Forwarded-For
   * header if not null; returns where the form sent the browser and the session cookies.
   */
  private static Answer signIn(String from, int to, String forwardedFor, String user, String pw)
      throws IOException {
    String xff = forwardedFor == null ? "" : "X-Forwarded-For: " + forwardedFor + "\r\n";
    Answer form = exchange(from, to, "GET /login HTTP/1.1\r\n" + xff, "");
    assertThat(form.status()).isEqualTo(200);
    Matcher csrf = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(form.body());
    assertThat(csrf.find()).as("the sign-in form's CSRF token").isTrue();
    Answer posted =
        exchange(
            from,
            to,
            "POST /login HTTP/1.1\r\n"
                + xff
                + "Cookie: "
                + String.join("; ", form.cookies())
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\n",
            "username=" + enc(user) + "&password=" + enc(pw) + "&_csrf=" + enc(csrf.group(1)));
    assertThat(posted.status()).isEqualTo(302);
    List<String> cookies = new ArrayList<>(form.cookies());
    cookies.addAll(posted.cookies());
    return new Answer(posted.status(), posted.location(), cookies, posted.body());
  }

  private static boolean refused(Answer a) {
    return a.location() != null && a.location().contains("/login?error");
  }

  @Test
  void behindATrustedProxyEachClientIsItselfAndNobodyElseChoosesTheirAddress() throws Exception {
    JsonNode dev = new ObjectMapper().readTree(DATA.resolve("dev.json").toFile());
    String user = dev.path("demoUser").path("username").asString();
    String password = dev.path("demoUser").path("password").asString();
    int proxy = startProxy();

    // Twenty wrong passwords through the proxy from one place, each for another name (so no
    // account is blocked), each claiming in its own header to come from somewhere else.
    for (int i = 0; i < 20; i++) {
      Answer a = signIn("127.0.0.3", proxy, "198.51.100." + i, "nobody-" + i, "wrong");
      assertThat(refused(a)).isTrue();
    }
    // That place is blocked now, even with the right password ...
    assertThat(refused(signIn("127.0.0.3", proxy, null, user, password))).isTrue();
    // ... and nobody else is: someone elsewhere signs in through the same proxy.
    Answer elsewhere = signIn("127.0.0.4", proxy, null, user, password);
    assertThat(refused(elsewhere)).as(elsewhere.location()).isFalse();
    // Their account page lists the sign-in from where they were, not from the proxy.
    Answer account =
        exchange(
            "127.0.0.4",
            proxy,
            "GET /account HTTP/1.1\r\nCookie: " + String.join("; ", elsewhere.cookies()) + "\r\n",
            "");
    assertThat(account.status()).as(account.body()).isEqualTo(200);
    assertThat(account.body()).contains("127.0.0.4").doesNotContain("127.0.0.2");

    // A client that is not a trusted proxy and rotates the header is still one client.
    for (int i = 0; i < 20; i++) {
      Answer a = signIn("127.0.0.5", port, "203.0.113." + i, "nobody-else-" + i, "wrong");
      assertThat(refused(a)).isTrue();
    }
    assertThat(refused(signIn("127.0.0.5", port, "203.0.113.99", user, password))).isTrue();
    // Nor does a header sent through the proxy count: claiming to be the blocked 127.0.0.3, a
    // client elsewhere is still itself and signs in.
    assertThat(refused(signIn("127.0.0.6", proxy, "127.0.0.3", user, password))).isFalse();
  }
}
