package io.yinxin.ca.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.testing.TestCsr;
import io.yinxin.ca.testing.TestNodes;
import io.yinxin.hsm.testing.FreePorts;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.operator.bc.BcDigestCalculatorProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.json.JsonMapper;

/**
 * Two CA nodes — two application contexts, each with its own web server, caches and status feed —
 * on one PostgreSQL database and one key store (as two pods share a database and an HSM). A
 * revocation made on node A reaches node B within 2 s: B's OCSP, which had a cached {@code good}
 * answer, says {@code revoked}, and B refuses to certify the revoked key again. (The delayed
 * commit, the skewed clock and the failed poll are {@code StatusFeedTest}'s.)
 */
class TwoNodesTest {
  static final PostgresDatabase DB = TestNodes.database();
  static final Path DATA = TestNodes.dataDir("yinxin-two-nodes-");
  static final String OPERATOR = "op-" + UUID.randomUUID();
  static final JsonMapper JSON = JsonMapper.builder().build();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static ConfigurableApplicationContext nodeA;
  static ConfigurableApplicationContext nodeB;
  static String baseA;
  static String baseB;

  @BeforeAll
  static void startTwoNodes() {
    int portA = FreePorts.next();
    int portB = FreePorts.next();
    baseA = "http://127.0.0.1:" + portA;
    baseB = "http://127.0.0.1:" + portB;
    // The certificates name one public URL; each node serves it as if behind one load balancer.
    nodeA = node(portA, true);
    nodeB = node(portB, false);
  }

  static ConfigurableApplicationContext node(int port, boolean init) {
    return new SpringApplicationBuilder(TestApp.class)
        .properties(
            "spring.datasource.url=" + DB.url(),
            "spring.datasource.username=" + PostgresDatabase.USER,
            "spring.datasource.password=",
            "spring.flyway.enabled=false",
            "server.port=" + port,
            "server.address=127.0.0.1",
            "yinxin.data-dir=" + DATA,
            "yinxin.keys.soft.enabled=true",
            "yinxin.ca.init-on-start=" + init,
            "yinxin.ca.public-url=http://ca.yinxin.test",
            "yinxin.ca.operators[0].name=ra-1",
            "yinxin.ca.operators[0].token-sha256=" + sha(OPERATOR),
            "yinxin.ca.operators[0].scopes=ca:issue,ca:revoke,ca:read",
            "yinxin.audit.generate-dev-tokens=true")
        .run();
  }

  @AfterAll
  static void stop() {
    if (nodeB != null) {
      nodeB.close();
    }
    if (nodeA != null) {
      nodeA.close();
    }
  }

  @Test
  void aRevocationOnNodeAIsSeenByNodeBsOcspAndKeyFilterWithinTwoSeconds() throws Exception {
    KeyPair key = TestCsr.ec("secp256r1");
    Map<String, Object> issued = issue(baseA, key, "钱七");
    assertThat(issued).containsKey("serial");
    BigInteger serial = new BigInteger((String) issued.get("serial"), 16);
    Hierarchy hierarchyB = nodeB.getBean(Hierarchy.class);

    // B answers good, and keeps that answer in its cache.
    assertThat(ocsp(baseB, hierarchyB, serial)).isSameAs(CertificateStatus.GOOD);
    assertThat(ocsp(baseB, hierarchyB, serial)).isSameAs(CertificateStatus.GOOD);

    HttpResponse<String> rv =
        post(
            baseA,
            "/ca/v1/certificates/citizen/" + issued.get("serial") + "/revoke",
            "{\"reason\":\"keyCompromise\"}");
    assertThat(rv.statusCode()).as(rv.body()).isEqualTo(200);

    await()
        .atMost(Duration.ofSeconds(2))
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(
            () -> assertThat(ocsp(baseB, hierarchyB, serial)).isInstanceOf(RevokedStatus.class));
    await()
        .atMost(Duration.ofSeconds(2))
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(
            () -> {
              HttpResponse<String> again = issueRaw(baseB, key, "钱七");
              assertThat(again.statusCode()).as(again.body()).isEqualTo(400);
              assertThat(again.body()).contains("BAD_KEY");
            });
  }

  static Map<String, Object> issue(String base, KeyPair key, String name) throws Exception {
    HttpResponse<String> r = issueRaw(base, key, name);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    @SuppressWarnings("unchecked")
    Map<String, Object> m = JSON.readValue(r.body(), Map.class);
    return m;
  }

  static HttpResponse<String> issueRaw(String base, KeyPair key, String name) throws Exception {
    String csr = TestCsr.pem(TestCsr.der(key, "SHA256withECDSA"));
    return post(
        base,
        "/ca/v1/certificates",
        JSON.writeValueAsString(
            Map.of(
                "profile",
                "citizen-sign",
                "csr",
                csr,
                "subject",
                Map.of("name", name, "idNumber", "11010519491231002X"),
                "san",
                Map.of("email", List.of()))));
  }

  /** The status node {@code base}'s OCSP responder gives for a citizen certificate. */
  static CertificateStatus ocsp(String base, Hierarchy h, BigInteger serial) throws Exception {
    CertificateID id =
        new CertificateID(
            new BcDigestCalculatorProvider().get(CertificateID.HASH_SHA1),
            h.issuer("citizen").certificate(),
            serial);
    HttpResponse<byte[]> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/ca/ocsp"))
                .header("Content-Type", "application/ocsp-request")
                .POST(
                    HttpRequest.BodyPublishers.ofByteArray(
                        new OCSPReqBuilder().addRequest(id).build().getEncoded()))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).isEqualTo(200);
    OCSPResp resp = new OCSPResp(r.body());
    assertThat(resp.getStatus()).isZero();
    BasicOCSPResp basic = (BasicOCSPResp) resp.getResponseObject();
    return basic.getResponses()[0].getCertStatus();
  }

  static HttpResponse<String> post(String base, String path, String body) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + OPERATOR)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static String sha(String s) {
    return io.yinxin.ca.Sha256.hex(
        io.yinxin.ca.Sha256.digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }
}
