package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The query parameters and JSON bodies of the modules' REST endpoints on a real node, sent as an
 * attacker or a careless client would: a number with a sign or a leading zero, a yes-or-no spelt
 * {@code on} or {@code yes}, a parameter or a JSON member given twice (where a proxy, a log or a
 * reviewer may read the other value), a member the endpoint does not know, a number where text is
 * expected, a body far beyond its limit or without a token. Each is a 400 (413) in the module's own
 * error format and changes nothing; the plain spelling still works; the body of a request without a
 * token is not read at all.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RequestReadingTest {
  private static final Path DATA = tempDir();
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("yinxin-params-");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry r) {
    r.add("yinxin.data-dir", DATA::toString);
  }

  @LocalServerPort int port;

  private final HttpClient http = HttpClient.newHttpClient();
  private String dev;

  @BeforeEach
  void readDevJson() throws Exception {
    dev = Files.readString(DATA.resolve("dev.json"));
  }

  private HttpResponse<byte[]> send(String method, String path, String token, byte[] pdf)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Authorization", "Bearer " + token);
    if (pdf == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/pdf")
          .method(method, HttpRequest.BodyPublishers.ofByteArray(pdf));
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String body(HttpResponse<byte[]> r) {
    return new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
  }

  /** A 400 problem+json with code INVALID_REQUEST. */
  private static void refused(HttpResponse<byte[]> r, String what) {
    assertThat(r.statusCode()).as(what + ": " + body(r)).isEqualTo(400);
    assertThat(r.headers().firstValue("Content-Type").orElse(""))
        .as(what)
        .contains("application/problem+json");
    assertThat(body(r)).as(what).contains("\"code\":\"INVALID_REQUEST\"");
  }

  /** A one-page PDF. */
  private static byte[] pdf() {
    StringBuilder out = new StringBuilder("%PDF-1.7\n");
    String[] objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
    };
    List<Integer> offsets = new java.util.ArrayList<>();
    for (int i = 0; i < objects.length; i++) {
      offsets.add(out.length());
      out.append(i + 1).append(" 0 obj\n").append(objects[i]).append("\nendobj\n");
    }
    int xref = out.length();
    out.append("xref\n0 4\n0000000000 65535 f \n");
    offsets.forEach(o -> out.append(String.format("%010d 00000 n \n", o)));
    out.append("trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n").append(xref).append("\n%%EOF\n");
    return out.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  @Test
  void aSealsPlacementHasOneSpellingAndOneValue() throws Exception {
    String token = NodeStartsTest.field(dev, "sealToken");
    String path = "/sign/v1/seals/" + NodeStartsTest.field(dev, "demoSealId") + "/sign?";
    byte[] pdf = pdf();
    for (String q :
        List.of(
            "page=+1&x=10&y=10",
            "page=01&x=10&y=10",
            "page=1&page=2&x=10&y=10",
            "page=1&x=10&y=10&x=300",
            "page=1&x=1e1&y=10",
            "page=1&x=NaN&y=10",
            "page=99999999999&x=10&y=10",
            "invisible=yes",
            "invisible=1",
            "invisible=true&invisible=false",
            "certify=+1",
            "level=B-B&level=B-T",
            // Text, which Spring would join with a comma: the signature's reason would say both.
            "invisible=true&reason=approved&reason=rejected")) {
      HttpResponse<byte[]> r = send("POST", path + q, token, pdf);
      refused(r, q);
    }
    HttpResponse<byte[]> refusedPage = send("POST", path + "page=1&page=2&x=10&y=10", token, pdf);
    assertThat(body(refusedPage)).contains("page");
    // The plain spellings seal.
    for (String q : List.of("page=1&x=10&y=10", "page=1&x=10.5&y=20.25", "invisible=true")) {
      HttpResponse<byte[]> r = send("POST", path + q, token, pdf);
      assertThat(r.statusCode()).as(q + ": " + body(r)).isEqualTo(200);
      assertThat(new String(r.body(), 0, 5, java.nio.charset.StandardCharsets.US_ASCII))
          .isEqualTo("%PDF-");
    }
  }

  @Test
  void theCertificateAuthoritysNumbersAndSwitchesHaveOneSpellingAndOneValue() throws Exception {
    String token = NodeStartsTest.field(dev, "caOperatorToken");
    for (String q :
        List.of(
            "limit=+2",
            "limit=02",
            "limit=2&limit=3",
            "limit=0x10",
            "limit= 2",
            "subject=a&subject=b")) {
      refused(send("GET", "/ca/v1/certificates?" + q.replace(" ", "%20"), token, null), q);
    }
    HttpResponse<byte[]> page = send("GET", "/ca/v1/certificates?limit=1", token, null);
    assertThat(page.statusCode()).as(body(page)).isEqualTo(200);
    JsonNode first = JSON.readTree(body(page));
    assertThat(first.path("items").size()).isEqualTo(1);
    String next = first.path("next").asString();
    JsonNode second =
        JSON.readTree(
            body(
                send(
                    "GET",
                    "/ca/v1/certificates?limit=1&after=" + next.replace("/", "%2F"),
                    token,
                    null)));
    assertThat(second.path("items").get(0).path("serial").asString())
        .isNotEqualTo(first.path("items").get(0).path("serial").asString());

    // A CRL published by a request that says delta one way and the other: none is published.
    String crls = "/ca/v1/cas/citizen/crls?";
    for (String q :
        List.of("delta=on", "delta=1", "delta=true&delta=false", "partition=+0", "partition=00")) {
      refused(send("POST", crls + q, token, null), q);
    }
    HttpResponse<byte[]> delta = send("POST", crls + "delta=true", token, null);
    assertThat(delta.statusCode()).as(body(delta)).isEqualTo(200);
    assertThat(body(delta)).contains("\"baseNumber\"");

    // An emergency procedure asked for as a dry run and as a run at once.
    String tsa = "/ca/v1/services/tsa/compromise?since=2026-11-30T08:00:00Z&confirm=tsa&";
    for (String q : List.of("dryRun=true&dryRun=false", "dryRun=false&dryRun=true", "dryRun=yes")) {
      refused(send("POST", tsa + q, token, null), q);
    }
    HttpResponse<byte[]> dry = send("POST", tsa + "dryRun=true", token, null);
    assertThat(dry.statusCode()).as(body(dry)).isEqualTo(200);
    assertThat(body(dry)).contains("\"dryRun\":true");
  }

  @Test
  void theEvidenceLogsKeyRotationIsNeitherRunNorDryRunWhenItsSwitchIsAmbiguous() throws Exception {
    String token = NodeStartsTest.field(dev, "auditAdminToken");
    String rotate = "/audit/v1/keys/rotate?confirm=rotate&";
    String keyBefore = body(send("POST", rotate + "dryRun=true", token, null));
    for (String q : List.of("dryRun=true&dryRun=false", "dryRun=false&dryRun=true", "dryRun=on")) {
      HttpResponse<byte[]> r = send("POST", rotate + q, token, null);
      assertThat(r.statusCode()).as(q + ": " + body(r)).isEqualTo(400);
    }
    assertThat(body(send("POST", rotate + "dryRun=true", token, null))).isEqualTo(keyBefore);
  }

  @Test
  void theSealRegistryIsListedAPageAtATime() throws Exception {
    String token = NodeStartsTest.field(dev, "sealToken");
    String demo = NodeStartsTest.field(dev, "demoSealId");
    HttpResponse<byte[]> all = send("GET", "/sign/v1/seals", token, null);
    assertThat(all.statusCode()).as(body(all)).isEqualTo(200);
    JsonNode page = JSON.readTree(body(all));
    assertThat(page.path("items").findValuesAsString("id")).contains(demo);
    assertThat(page.path("next").isNull()).isTrue();
    JsonNode one = JSON.readTree(body(send("GET", "/sign/v1/seals?limit=1", token, null)));
    assertThat(one.path("items").size()).isEqualTo(1);
    assertThat(one.path("next").asString())
        .isEqualTo(one.path("items").get(0).path("id").asString());
    JsonNode granted =
        JSON.readTree(body(send("GET", "/sign/v1/seals?grantee=dev-sealer", token, null)));
    assertThat(granted.path("items").findValuesAsString("id")).containsExactly(demo);
    assertThat(granted.path("items").get(0).path("grantees").toString()).contains("dev-sealer");
    for (String q :
        List.of(
            "limit=0",
            "limit=1001",
            "limit=+1",
            "limit=4294967297",
            "limit=1&limit=2",
            "after=seal-00000000000000000000",
            "after=x",
            "grantee=a%20b")) {
      refused(send("GET", "/sign/v1/seals?" + q, token, null), q);
    }
    assertThat(send("GET", "/sign/v1/seals", null, null).statusCode()).isEqualTo(401);
  }

  @Test
  void aCasTicketValidatedWithTwoTicketsIsAnInvalidRequestInCasOwnForm() throws Exception {
    String q = "ticket=ST-1&ticket=ST-2&service=https%3A%2F%2Fportal.example%2F";
    HttpResponse<byte[]> v2 = send("GET", "/cas/serviceValidate?" + q, "none", null);
    assertThat(v2.statusCode()).isEqualTo(200);
    assertThat(body(v2)).contains("<cas:authenticationFailure code=\"INVALID_REQUEST\"");
    HttpResponse<byte[]> v3 =
        send("GET", "/cas/p3/serviceValidate?" + q + "&format=JSON", "none", null);
    assertThat(body(v3)).contains("INVALID_REQUEST").startsWith("{");
    HttpResponse<byte[]> v1 = send("GET", "/cas/validate?" + q, "none", null);
    assertThat(body(v1)).isEqualTo("no\n");
  }

  /** A multipart sealing request: the PDF as part {@code file}, then each option a form field. */
  private HttpResponse<byte[]> sealMultipart(String query, List<String[]> fields) throws Exception {
    String boundary = "yinxin-params";
    java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
    for (String[] f : fields) {
      body.writeBytes(
          ("--"
                  + boundary
                  + "\r\nContent-Disposition: form-data; name=\""
                  + f[0]
                  + "\"\r\n\r\n"
                  + f[1]
                  + "\r\n")
              .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    body.writeBytes(
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
                + "Content-Type: application/pdf\r\n\r\n")
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    body.writeBytes(pdf());
    body.writeBytes(
        ("\r\n--" + boundary + "--\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    String path = "/sign/v1/seals/" + NodeStartsTest.field(dev, "demoSealId") + "/sign" + query;
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Authorization", "Bearer " + NodeStartsTest.field(dev, "sealToken"))
            .header("Content-Type", "multipart/form-data; boundary=" + boundary)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void anUploadedDocumentsSealingOptionsHaveOneSpellingAndOneValueToo() throws Exception {
    List<List<String[]>> bad =
        List.of(
            List.of(
                new String[] {"page", "+1"}, new String[] {"x", "10"}, new String[] {"y", "10"}),
            List.of(
                new String[] {"page", "1"},
                new String[] {"page", "2"},
                new String[] {"x", "10"},
                new String[] {"y", "10"}),
            List.<String[]>of(new String[] {"invisible", "yes"}),
            List.of(
                new String[] {"invisible", "true"},
                new String[] {"reason", "approved"},
                new String[] {"reason", "rejected"}),
            List.of(
                new String[] {"page", "1"}, new String[] {"x", "1e1"}, new String[] {"y", "10"}));
    for (List<String[]> fields : bad) {
      String what = fields.stream().map(f -> f[0] + "=" + f[1]).toList().toString();
      refused(sealMultipart("", fields), what);
    }
    // The same options in the query string of a multipart request.
    refused(sealMultipart("?page=1&page=2&x=10&y=10", List.of()), "query page twice");
    HttpResponse<byte[]> ok =
        sealMultipart(
            "",
            List.of(
                new String[] {"page", "1"},
                new String[] {"x", "10.5"},
                new String[] {"y", "20"},
                new String[] {"reason", "approved"}));
    assertThat(ok.statusCode()).as(body(ok)).isEqualTo(200);
    assertThat(new String(ok.body(), 0, 5, java.nio.charset.StandardCharsets.US_ASCII))
        .isEqualTo("%PDF-");
  }

  @Test
  void theSignOnAdminApiAnswersARepeatedParameterInItsOwnForm() throws Exception {
    HttpResponse<byte[]> r =
        send(
            "GET",
            "/sso/v1/accounts?limit=5&limit=6",
            NodeStartsTest.field(dev, "ssoAdminToken"),
            null);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(body(r)).contains("\"error\":\"invalid_request\"").contains("limit");
  }

  private HttpResponse<String> post(String path, String bearer, byte[] body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String body) throws Exception {
    return post(path, sealToken(), body.getBytes(StandardCharsets.UTF_8));
  }

  private String getJson(String path) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + sealToken())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private String sealToken() {
    return NodeStartsTest.field(dev, "sealToken");
  }

  private static String detail(HttpResponse<String> r) {
    return JSON.readTree(r.body()).path("detail").asString();
  }

  @Test
  void aNewSealHasOneReading() throws Exception {
    String seals = getJson("/sign/v1/seals");
    Map<String, String> refused = new LinkedHashMap<>();
    refused.put("{\"name\":\"甲公司\",\"name\":\"乙公司\",\"key\":\"soft:x\"}", "a member appears twice");
    refused.put(
        "{\"name\":\"A\",\"grantees\":[\"a\"],\"grantees\":[\"evil\"]}", "a member appears twice");
    refused.put("{\"name\":\"A\",\"grantee\":[\"a\"]}", "unknown member grantee");
    refused.put("{\"name\":1}", "name has the wrong type");
    refused.put("{\"name\":true}", "name has the wrong type");
    refused.put("{\"name\":\"A\",\"grantees\":\"a\"}", "grantees has the wrong type");
    refused.put("{\"name\":\"A\",\"grantees\":[1]}", "grantees has the wrong type");
    refused.put("{\"name\":\"A\",\"grantees\":[null]}", "grantees has the wrong type");
    refused.put("{\"name\":\"A\"} {}", "the body is not the expected JSON");
    refused.put("{\"name\":\"A\"", "the body is not JSON");
    refused.put("null", "the body is not a JSON object");
    // One spelling of the image: "QR==" decodes to the byte of "QQ==".
    refused.put("{\"name\":\"A\",\"image\":\"QR==\"}", "image must be base64 (a PNG)");
    for (Map.Entry<String, String> e : refused.entrySet()) {
      HttpResponse<String> r = post("/sign/v1/seals", e.getKey());
      assertThat(r.statusCode()).as(e.getKey() + " -> " + r.body()).isEqualTo(400);
      assertThat(r.headers().firstValue("Content-Type").orElse(""))
          .contains("application/problem+json");
      assertThat(detail(r)).as(e.getKey()).isEqualTo(e.getValue());
    }
    // Read in the one spelling, the same request gets as far as the seal's own checks.
    HttpResponse<String> once = post("/sign/v1/seals", "{\"name\":\"乙公司\",\"key\":\"soft:x\"}");
    assertThat(once.statusCode()).isEqualTo(400);
    assertThat(detail(once)).isEqualTo("no such key in the key backend");
    assertThat(getJson("/sign/v1/seals")).isEqualTo(seals);
  }

  @Test
  void aNewSealsBodyIsReadAfterTheTokenAndOnlyUpToItsLimit() throws Exception {
    // Without a token the body is not read: not JSON, and still 401, not 400.
    HttpResponse<String> anonymous =
        post("/sign/v1/seals", null, "{not json".getBytes(StandardCharsets.UTF_8));
    assertThat(anonymous.statusCode()).as(anonymous.body()).isEqualTo(401);
    // 3 MB (a whole body beyond the node's read-ahead, so streamed to the handler): 401 without
    // a token, 413 with one — read up to the limit, not parsed.
    byte[] big =
        ("{\"name\":\"A\",\"certificateChain\":\"" + "A".repeat(3 << 20) + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    assertThat(post("/sign/v1/seals", null, big).statusCode()).isEqualTo(401);
    HttpResponse<String> tooLarge = post("/sign/v1/seals", sealToken(), big);
    assertThat(tooLarge.statusCode()).as(tooLarge.body()).isEqualTo(413);
    assertThat(tooLarge.body()).contains("\"code\":\"TOO_LARGE\"");
  }

  @Test
  void aNewKeyHasOneReading() throws Exception {
    Map<String, String> refused = new LinkedHashMap<>();
    refused.put(
        "{\"backend\":\"soft\",\"type\":\"EC_P256\",\"label\":\"json-a\",\"exportable\":true}",
        "unknown member exportable");
    refused.put(
        "{\"backend\":\"soft\",\"type\":\"EC_P256\",\"label\":12345}", "label has the wrong type");
    refused.put(
        "{\"backend\":\"soft\",\"type\":\"EC_P256\",\"label\":\"json-b\",\"label\":\"json-c\"}",
        "a member appears twice");
    for (Map.Entry<String, String> e : refused.entrySet()) {
      HttpResponse<String> r = post("/sign/v1/keys", e.getKey());
      assertThat(r.statusCode()).as(e.getKey() + " -> " + r.body()).isEqualTo(400);
      assertThat(detail(r)).as(e.getKey()).isEqualTo(e.getValue());
    }
    JsonNode keys = JSON.readTree(getJson("/sign/v1/keys"));
    assertThat(keys.toString()).doesNotContain("json-a", "json-b", "json-c", "soft:12345");
    HttpResponse<String> made =
        post("/sign/v1/keys", "{\"backend\":\"soft\",\"type\":\"EC_P256\",\"label\":\"json-a\"}");
    assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
    assertThat(JSON.readTree(made.body()).path("key").asString()).isEqualTo("soft:json-a");
  }

  /**
   * A page's parameter given twice, in a browser: the error page in its language names the
   * parameter (the node's rule answered Spring's English "Whitelabel Error Page" before).
   */
  @Test
  void aPagesParameterGivenTwiceIsAnsweredWithTheErrorPageNamingIt() throws Exception {
    for (String[] c :
        new String[][] {
          {"zh-CN", "请求无法处理", "出错的参数："},
          {"en", "This request cannot be handled", "Parameter at fault: "}
        }) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + port + "/login?error=1&error=2"))
                  .header("Accept", "text/html")
                  .header("Accept-Language", c[0])
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(r.body())
          .contains("<html lang=\"" + c[0] + "\"", c[1], c[2] + "<code>error</code>");
      assertThat(r.body()).doesNotContain("Whitelabel");
      assertThat(r.headers().firstValue("Content-Language")).contains(c[0]);
    }
  }
}
