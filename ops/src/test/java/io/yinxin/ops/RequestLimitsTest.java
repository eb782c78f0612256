package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

/**
 * Every endpoint that takes a body, swept as an attacker without a token would: the request
 * declares a 50 MB body and sends 1 MB of it, then waits. An endpoint that answers at once (401,
 * 413, 400, ...) read at most up to its limit; one that tries to read the whole body would hang
 * until the connection timeout. The endpoints are every {@code POST}/{@code PUT}/{@code
 * PATCH}/{@code DELETE} handler the node's MVC mappings list, plus the ones Spring Security's
 * filters serve (the OAuth2 endpoints, sign-in, sign-out), each as JSON and as multipart form data.
 * Each must answer a client error within 5 s; none may answer 2xx or 5xx.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ExtendWith(OutputCaptureExtension.class)
class RequestLimitsTest {
  private static final Path DATA = tempDir();
  private static final long DECLARED = 50L * 1024 * 1024;
  private static final int SENT = 1024 * 1024;

  /** Served by filters, not by MVC handler methods. */
  private static final List<String> FILTER_PATHS =
      List.of(
          "/oauth2/token",
          "/oauth2/introspect",
          "/oauth2/revoke",
          "/oauth2/par",
          "/oauth2/device_authorization",
          "/connect/register",
          "/login",
          "/login/otp",
          "/logout",
          "/userinfo");

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("yinxin-limits-");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @DynamicPropertySource
  static void dataDir(DynamicPropertyRegistry r) {
    r.add("yinxin.data-dir", DATA::toString);
  }

  @LocalServerPort int port;

  @Autowired
  @Qualifier("requestMappingHandlerMapping")
  RequestMappingHandlerMapping mappings;

  /**
   * A document sent without an account to {@code /sign/v1/validate} decides what PDFBox logs: a 1.3
   * KB PDF with arrays nested 600 deep made it write 64 KB of ERROR lines and stack traces per
   * request (a 48-fold amplification anyone could aim at the node's disk). It gets its 400 and adds
   * nothing from PDFBox to the log.
   */
  @Test
  void aHostileDocumentIsRefusedWithoutFillingTheLog(CapturedOutput output) throws Exception {
    String pdf =
        "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R /X "
            + "[".repeat(600)
            + "]".repeat(600)
            + " >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            + "trailer << /Root 1 0 R >>\n%%EOF\n";
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    int before = output.length();
    for (int i = 0; i < 5; i++) {
      java.net.http.HttpResponse<String> r =
          http.send(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create("http://127.0.0.1:" + port + "/sign/v1/validate"))
                  .header("Content-Type", "application/pdf")
                  .POST(java.net.http.HttpRequest.BodyPublishers.ofString(pdf))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    }
    String logged = output.toString().substring(before);
    assertThat(logged).doesNotContain("org.apache.pdfbox").doesNotContain("\tat ");
    assertThat(logged.length()).as(logged).isLessThan(5 * 1024);
  }

  @Test
  void everyEndpointWithABodyRefusesAnOversizedOneWithoutReadingIt() throws Exception {
    Set<String> targets = new TreeSet<>();
    mappings
        .getHandlerMethods()
        .forEach(
            (info, method) -> {
              Set<RequestMethod> methods = info.getMethodsCondition().getMethods();
              for (RequestMethod m : methods.isEmpty() ? Set.of(RequestMethod.POST) : methods) {
                if (m == RequestMethod.GET
                    || m == RequestMethod.HEAD
                    || m == RequestMethod.OPTIONS) {
                  continue;
                }
                for (String pattern : info.getPatternValues()) {
                  targets.add(m.name() + " " + concrete(pattern));
                }
              }
            });
    FILTER_PATHS.forEach(p -> targets.add("POST " + p));
    // Boot's error page, the target of an internal forward, not an endpoint of ours.
    targets.removeIf(t -> t.endsWith(" /error"));
    assertThat(targets).as("endpoints found").hasSizeGreaterThan(40);

    List<String> failures = new ArrayList<>();
    for (String target : targets) {
      String method = target.substring(0, target.indexOf(' '));
      String path = target.substring(target.indexOf(' ') + 1);
      for (String type : List.of("application/json", "multipart/form-data; boundary=yinxin")) {
        String answer = send(method, path, type);
        int status = answer.startsWith("HTTP/1.1 ") ? Integer.parseInt(answer.substring(9, 12)) : 0;
        if (status < 400 || status >= 500) {
          failures.add(target + " [" + type + "]: " + (status == 0 ? answer : "HTTP " + status));
        }
      }
    }
    assertThat(failures).as("endpoints that did not refuse at once").isEmpty();
  }

  /** A path pattern with every variable filled in. */
  private static String concrete(String pattern) {
    return pattern
        .replaceAll("\\{\\*[^}]+}", "x")
        .replaceAll("\\{[^}]+}", "x")
        .replace("/**", "/x")
        .replace("*", "x");
  }

  /**
   * The status line the node answers a request declaring {@link #DECLARED} bytes and sending {@link
   * #SENT}, or what went wrong.
   */
  private String send(String method, String path, String type) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(
          (method
                  + " "
                  + path
                  + " HTTP/1.1\r\nHost: 127.0.0.1:"
                  + port
                  + "\r\nContent-Type: "
                  + type
                  + "\r\nContent-Length: "
                  + DECLARED
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      byte[] chunk = new byte[64 * 1024];
      java.util.Arrays.fill(chunk, (byte) '[');
      try {
        for (int sent = 0; sent < SENT; sent += chunk.length) {
          out.write(chunk);
        }
        out.flush();
      } catch (java.io.IOException e) {
        // the node answered and closed before taking it all: read what it said
      }
      InputStream in = s.getInputStream();
      StringBuilder line = new StringBuilder();
      try {
        int c;
        while ((c = in.read()) != -1 && c != '\r') {
          line.append((char) c);
        }
      } catch (SocketTimeoutException e) {
        return "no answer within 5 s (reading the whole body?)";
      }
      return line.length() == 0 ? "closed without an answer" : line.toString();
    }
  }
}
