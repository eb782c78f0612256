package io.yinxin.ca.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.testing.TestCsr;
import io.yinxin.ca.testing.TestNodes;
import io.yinxin.hsm.testing.FreePorts;
import io.yinxin.hsm.testing.OpenSsl;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The CA as a node serves it, on PostgreSQL with the software key backend, judged by openssl:
 * chains verify, extensions are the profile's, CRLs verify and list what was revoked, OCSP answers
 * good / revoked / unknown.
 */
@SpringBootTest(
    classes = TestApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
class CaHttpTest {
  static final PostgresDatabase DB = TestNodes.database();
  static final Path DATA = TestNodes.dataDir("yinxin-ca-");
  static final int PORT = FreePorts.next();
  static final String BASE = "http://127.0.0.1:" + PORT;
  static final String OPERATOR = "op-" + UUID.randomUUID();
  static final String READER = "reader-" + UUID.randomUUID();
  static final JsonMapper JSON = JsonMapper.builder().build();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final io.yinxin.audit.access.TestIssuer ISSUER = startIssuer();

  private static io.yinxin.audit.access.TestIssuer startIssuer() {
    try {
      return new io.yinxin.audit.access.TestIssuer();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    r.add("spring.datasource.url", DB::url);
    r.add("spring.datasource.username", () -> PostgresDatabase.USER);
    r.add("spring.datasource.password", () -> "");
    r.add("spring.flyway.enabled", () -> "false");
    r.add("server.port", () -> PORT);
    r.add("server.address", () -> "127.0.0.1");
    r.add("yinxin.data-dir", DATA::toString);
    r.add("yinxin.keys.soft.enabled", () -> "true");
    r.add("yinxin.ca.init-on-start", () -> "true");
    r.add("yinxin.ca.crl-partition-size", () -> "4");
    r.add("yinxin.ca.ocsp-key-use-interval", () -> "1h"); // the test records the tally itself
    // A token back a second, so that a flooding address stays refused while the test looks.
    r.add("yinxin.ca.ocsp-limits.per-address-per-second", () -> "1");
    r.add("yinxin.ca.ocsp-limits.per-address-burst", () -> "100");
    r.add("yinxin.ca.operators[0].name", () -> "ra-1");
    r.add("yinxin.ca.operators[0].token-sha256", () -> sha(OPERATOR));
    r.add("yinxin.ca.operators[0].scopes", () -> "ca:issue,ca:revoke,ca:read,ca:crl");
    r.add("yinxin.ca.operators[1].name", () -> "reader");
    r.add("yinxin.ca.operators[1].token-sha256", () -> sha(READER));
    r.add("yinxin.ca.operators[1].scopes", () -> "ca:read");
    r.add("yinxin.audit.generate-dev-tokens", () -> "true");
    r.add("yinxin.ca.issuer-uri", ISSUER::issuer);
    r.add("yinxin.audit.issuer-uri", ISSUER::issuer);
  }

  @Autowired Hierarchy hierarchy;
  @Autowired io.yinxin.ca.ocsp.OcspResponder ocspResponder;
  @Autowired io.yinxin.ca.store.CaStore caStore;
  @Autowired io.yinxin.hsm.KeyService keyService;
  @Autowired io.yinxin.audit.AuditLog auditLog;

  /** Reads private event rows, which are encrypted at rest. */
  @Autowired io.yinxin.audit.store.LogStore auditStore;

  @Autowired io.yinxin.ca.revoke.RevocationService revocationService;

  // ---- hierarchy

  @Test
  void initIsIdempotentAndCreatesEveryCaAndServiceCertificate() {
    Hierarchy.InitReport again = hierarchy.init();
    assertThat(again.created()).isEmpty();
    assertThat(again.existing())
        .contains("ca root", "ca citizen", "ca sm2-citizen", "service ocsp-citizen", "service tsa");
  }

  @Test
  void caAndServiceCertificatesCarryTheirExtensions() throws Exception {
    Path dir = work();
    String root = caPem("root");
    Files.writeString(dir.resolve("root.pem"), root);
    Files.writeString(dir.resolve("citizen.pem"), caPem("citizen"));
    OpenSsl.Result v = OpenSsl.run(dir, "verify", "-CAfile", "root.pem", "citizen.pem");
    assertThat(v.output()).contains("citizen.pem: OK");
    OpenSsl.Result text = OpenSsl.run(dir, "x509", "-in", "citizen.pem", "-noout", "-text");
    assertThat(text.output())
        .contains("CA:TRUE, pathlen:0")
        .contains("Certificate Sign, CRL Sign")
        .contains("URI:" + BASE + "/ca/crl/root/0.crl");

    Hierarchy.ServiceKey tsa = hierarchy.service("tsa").orElseThrow();
    Files.write(dir.resolve("tsa.der"), tsa.certificate().getEncoded());
    OpenSsl.Result t =
        OpenSsl.run(dir, "x509", "-inform", "DER", "-in", "tsa.der", "-noout", "-text");
    assertThat(t.output()).containsPattern("Extended Key Usage: critical\\s+Time Stamping");
    Hierarchy.ServiceKey ocsp = hierarchy.service("ocsp-citizen").orElseThrow();
    Files.write(dir.resolve("ocsp.der"), ocsp.certificate().getEncoded());
    OpenSsl.Result o =
        OpenSsl.run(dir, "x509", "-inform", "DER", "-in", "ocsp.der", "-noout", "-text");
    assertThat(o.output()).contains("OCSP Signing").contains("OCSP No Check");
  }

  // ---- issuance, judged by openssl

  @Test
  void everyProfileIssuesAChainOpensslAccepts() throws Exception {
    Path dir = work();
    Files.writeString(dir.resolve("root.pem"), caPem("root"));

    Map<String, Object> citizen =
        issue(
            "citizen-sign",
            TestCsr.p256(),
            Map.of("name", "张三", "idNumber", "11010519491231002X"),
            Map.of("email", List.of("zhang.san@example.cn")));
    String text = verifyAndText(dir, citizen, "citizen");
    assertThat(text)
        .contains("Digital Signature, Non Repudiation")
        .contains("serialNumber = 11010519491231002X")
        .contains("email:zhang.san@example.cn")
        .contains("OCSP - URI:" + BASE + "/ca/ocsp")
        .contains("CA Issuers - URI:" + BASE + "/ca/v1/cas/citizen/certificate")
        .containsPattern("URI:" + Pattern.quote(BASE) + "/ca/crl/citizen/[0-9]+\\.crl")
        .contains("X509v3 Freshest CRL");
    // The Chinese name survives as UTF-8.
    OpenSsl.Result subject =
        OpenSsl.run(
            dir,
            "x509",
            "-in",
            "citizen-leaf.pem",
            "-noout",
            "-subject",
            "-nameopt",
            "utf8,sep_comma_plus");
    assertThat(subject.output()).contains("CN=张三");

    Map<String, Object> auth =
        issue(
            "citizen-auth",
            TestCsr.pem(TestCsr.der(TestCsr.rsa(3072), "SHA256withRSA")),
            Map.of("name", "李四", "idNumber", "11010519491231002X"),
            Map.of());
    assertThat(verifyAndText(dir, auth, "citizen")).contains("TLS Web Client Authentication");

    Map<String, Object> seal =
        issue(
            "enterprise-seal",
            TestCsr.pem(TestCsr.der(TestCsr.ec("secp384r1"), "SHA384withECDSA")),
            Map.of("organization", "福州某某科技有限公司", "creditCode", "91350100M000100Y43"),
            Map.of());
    String sealText = verifyAndText(dir, seal, "enterprise");
    assertThat(sealText)
        .contains("Digital Signature, Non Repudiation")
        .containsPattern("1\\.3\\.6\\.1\\.5\\.5\\.7\\.3\\.36|Document Signing")
        .containsPattern(
            "organizationIdentifier ?= ?91350100M000100Y43|2\\.5\\.4\\.97 ?= ?91350100M000100Y43");

    Map<String, Object> tls =
        issue(
            "server-tls",
            TestCsr.p256(),
            Map.of("organization", "某市政务服务中心", "province", "广东省", "locality", "广州市"),
            Map.of("dns", List.of("portal.gov.localhost", "www.portal.gov.localhost")));
    assertThat(verifyAndText(dir, tls, "tls"))
        .contains("TLS Web Server Authentication")
        .contains("DNS:portal.gov.localhost, DNS:www.portal.gov.localhost")
        // No domain validation over REST: organisation validated, never the CA/B DV policy.
        .contains("Policy: 2.23.140.1.2.2")
        .doesNotContain("2.23.140.1.2.1");
  }

  @Test
  void sm2CertificatesVerifyWithOpensslUsingTheDefaultDistinguishingId() throws Exception {
    Path dir = work();
    Files.writeString(dir.resolve("root.pem"), caPem("sm2-root"));
    Files.writeString(dir.resolve("ca.pem"), caPem("sm2-citizen"));
    KeyPair kp = TestCsr.ec("sm2p256v1");
    Map<String, Object> c =
        issue(
            "citizen-sign-sm2",
            TestCsr.pem(TestCsr.der(kp, "SM3withSM2")),
            Map.of("name", "王五", "idNumber", "11010519491231002X"),
            Map.of());
    Files.writeString(dir.resolve("leaf.pem"), (String) c.get("certificate"));
    // OpenSSL 3.0 applies -vfyopt distid only to the target certificate's signature, so each link
    // of the chain is judged on its own: the CA certificate under the root, the leaf under the CA.
    OpenSsl.Result link1 =
        OpenSsl.run(
            dir, "verify", "-vfyopt", "distid:1234567812345678", "-CAfile", "root.pem", "ca.pem");
    assertThat(link1.output()).as(link1.output()).contains("ca.pem: OK");
    OpenSsl.Result link2 =
        OpenSsl.run(
            dir,
            "verify",
            "-vfyopt",
            "distid:1234567812345678",
            "-partial_chain",
            "-CAfile",
            "ca.pem",
            "leaf.pem");
    assertThat(link2.output()).as(link2.output()).contains("leaf.pem: OK");
    // A leaf signed with another distinguishing ID would not verify: the check can fail.
    OpenSsl.Result wrongId =
        OpenSsl.run(
            dir,
            "verify",
            "-vfyopt",
            "distid:0000000000000000",
            "-partial_chain",
            "-CAfile",
            "ca.pem",
            "leaf.pem");
    assertThat(wrongId.output()).doesNotContain("leaf.pem: OK");
    OpenSsl.Result text = OpenSsl.run(dir, "x509", "-in", "leaf.pem", "-noout", "-text");
    assertThat(text.output()).contains("SM2-with-SM3").containsPattern("ASN1 OID: SM2|sm2");
  }

  // ---- revocation: CRL and OCSP, judged by openssl

  @Test
  void revokedCertificateIsReportedByCrlDeltaCrlAndOcsp() throws Exception {
    Path dir = citizenOcspDir();
    Files.writeString(dir.resolve("root.pem"), caPem("root"));
    Map<String, Object> c = issueCitizenInto(dir, "citizen-sign", "赵六");
    String serial = (String) c.get("serial");

    assertThat(ocsp(dir, "leaf.pem")).contains("leaf.pem: good");
    // A full CRL of the partition from before the revocation: the delta's base.
    String crlUrl = crlUrlOf(dir, "leaf.pem");
    assertThat(
            post("/ca/v1/cas/citizen/crls?partition=" + partitionOf(crlUrl), "", OPERATOR)
                .statusCode())
        .isEqualTo(200);

    HttpResponse<String> rv =
        post(
            "/ca/v1/certificates/citizen/" + serial + "/revoke",
            "{\"reason\":\"keyCompromise\"}",
            OPERATOR);
    assertThat(rv.statusCode()).as(rv.body()).isEqualTo(200);
    assertThat(rv.body()).contains("\"status\":\"revoked\"").contains("keyCompromise");

    // OCSP sees it at once (the cached "good" answer was evicted).
    String revoked = ocsp(dir, "leaf.pem");
    assertThat(revoked)
        .contains("leaf.pem: revoked")
        .contains("Reason: keyCompromise")
        .contains("Revocation Time:");

    // The next delta lists it (a change after its base) ...
    assertThat(
            post(
                    "/ca/v1/cas/citizen/crls?delta=true&partition=" + partitionOf(crlUrl),
                    "",
                    OPERATOR)
                .statusCode())
        .isEqualTo(200);
    Files.write(dir.resolve("delta.crl"), getBytes(crlUrl.replace(".crl", "-delta.crl")));
    // ... and so does the certificate's own CRL URL (its partition) in the next full CRL.
    HttpResponse<String> pub =
        post("/ca/v1/cas/citizen/crls?partition=" + partitionOf(crlUrl), "", OPERATOR);
    assertThat(pub.statusCode()).as(pub.body()).isEqualTo(200);
    Files.write(dir.resolve("full.crl"), getBytes(crlUrl));
    OpenSsl.Result crl =
        OpenSsl.run(
            dir,
            "crl",
            "-inform",
            "DER",
            "-in",
            "full.crl",
            "-CAfile",
            "chain.pem",
            "-noout",
            "-text");
    assertThat(crl.output()).contains("verify OK");
    assertThat(crl.output().toLowerCase(java.util.Locale.ROOT)).contains(serialAsOpenssl(serial));
    assertThat(crl.output()).contains("Key Compromise").contains("Issuing Distribution Point");

    OpenSsl.Result delta =
        OpenSsl.run(
            dir,
            "crl",
            "-inform",
            "DER",
            "-in",
            "delta.crl",
            "-CAfile",
            "chain.pem",
            "-noout",
            "-text");
    assertThat(delta.output()).contains("verify OK").contains("Delta CRL Indicator");
    assertThat(delta.output().toLowerCase(java.util.Locale.ROOT)).contains(serialAsOpenssl(serial));

    // openssl verify with CRL checking refuses the revoked certificate.
    Files.write(dir.resolve("root.crl"), getBytes(BASE + "/ca/crl/root/0.crl"));
    OpenSsl.run(dir, "crl", "-inform", "DER", "-in", "full.crl", "-out", "full.pem");
    OpenSsl.run(dir, "crl", "-inform", "DER", "-in", "root.crl", "-out", "root-crl.pem");
    OpenSsl.Result chk =
        OpenSsl.run(
            dir,
            "verify",
            "-crl_check_all",
            "-CRLfile",
            "full.pem",
            "-CRLfile",
            "root-crl.pem",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "ca.pem",
            "leaf.pem");
    assertThat(chk.output()).contains("certificate revoked");

    // Revoking twice is a conflict; nothing changes.
    HttpResponse<String> again =
        post(
            "/ca/v1/certificates/citizen/" + serial + "/revoke",
            "{\"reason\":\"superseded\"}",
            OPERATOR);
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(again.body()).contains("\"code\":\"CONFLICT\"");
    assertThat(ocsp(dir, "leaf.pem")).contains("Reason: keyCompromise");
  }

  @Test
  void holdAndReleaseShowInOcspAndTheDeltaCrl() throws Exception {
    Path dir = citizenOcspDir();
    Map<String, Object> c = issueCitizenInto(dir, "citizen-auth", "钱七");
    String serial = (String) c.get("serial");
    String crlUrl = crlUrlOf(dir, "leaf.pem");
    // The base full CRL comes before the hold, so the delta covers hold and release.
    post("/ca/v1/cas/citizen/crls?partition=" + partitionOf(crlUrl), "", OPERATOR);
    assertThat(
            post(
                    "/ca/v1/certificates/citizen/" + serial + "/revoke",
                    "{\"reason\":\"certificateHold\"}",
                    OPERATOR)
                .body())
        .contains("\"status\":\"on-hold\"");
    assertThat(ocsp(dir, "leaf.pem")).contains("leaf.pem: revoked").contains("certificateHold");
    HttpResponse<String> rel =
        post("/ca/v1/certificates/citizen/" + serial + "/release", "", OPERATOR);
    assertThat(rel.statusCode()).as(rel.body()).isEqualTo(200);
    assertThat(ocsp(dir, "leaf.pem")).contains("leaf.pem: good");
    post("/ca/v1/cas/citizen/crls?delta=true&partition=" + partitionOf(crlUrl), "", OPERATOR);
    Files.write(dir.resolve("delta.crl"), getBytes(crlUrl.replace(".crl", "-delta.crl")));
    OpenSsl.Result delta =
        OpenSsl.run(
            dir,
            "crl",
            "-inform",
            "DER",
            "-in",
            "delta.crl",
            "-CAfile",
            "chain.pem",
            "-noout",
            "-text");
    assertThat(delta.output()).contains("verify OK").contains("Remove From CRL");
    // Releasing a certificate that is not on hold is a conflict.
    assertThat(
            post("/ca/v1/certificates/citizen/" + serial + "/release", "", OPERATOR).statusCode())
        .isEqualTo(409);
  }

  @Test
  void ocspAnswersUnknownForAnUnknownSerialAndMalformedRequestForGarbage() throws Exception {
    Path dir = citizenOcspDir();
    OpenSsl.Result r =
        OpenSsl.run(
            dir,
            "ocsp",
            "-issuer",
            "ca.pem",
            "-serial",
            "0x1234567890abcdef",
            "-url",
            BASE + "/ca/ocsp",
            "-CAfile",
            "chain.pem");
    assertThat(r.output())
        .contains("0x1234567890abcdef: unknown")
        .contains("Response verify OK")
        .doesNotContain("no nonce in response");

    HttpResponse<byte[]> garbage =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(BASE + "/ca/ocsp"))
                .header("Content-Type", "application/ocsp-request")
                .POST(HttpRequest.BodyPublishers.ofByteArray("hello".getBytes()))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(garbage.statusCode()).isEqualTo(200);
    assertThat(new OCSPResp(garbage.body()).getStatus()).isEqualTo(OCSPResp.MALFORMED_REQUEST);

    // GET (RFC 6960 Appendix A.1): the same request, base64 in the path.
    OpenSsl.run(
        dir, "ocsp", "-issuer", "ca.pem", "-serial", "0x1234", "-no_nonce", "-reqout", "req.der");
    String b64 =
        java.util.Base64.getEncoder().encodeToString(Files.readAllBytes(dir.resolve("req.der")));
    HttpResponse<byte[]> get =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(
                        BASE
                            + "/ca/ocsp/"
                            + b64.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(new OCSPResp(get.body()).getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);

    // RFC 8954: a nonce is 1-32 octets; longer or empty ones are malformed requests.
    org.bouncycastle.cert.ocsp.CertificateID id =
        new org.bouncycastle.cert.ocsp.OCSPReq(Files.readAllBytes(dir.resolve("req.der")))
            .getRequestList()[0].getCertID();
    for (int octets : new int[] {0, 33, 1000}) {
      assertThat(new OCSPResp(postOcsp(withNonce(id, octets))).getStatus())
          .as("nonce of %d octets", octets)
          .isEqualTo(OCSPResp.MALFORMED_REQUEST);
    }
    // RFC 6960 knows v1 only, which DER leaves out: openssl's request with a version field
    // written into its TBSRequest ([0] INTEGER 1, "v2"; [0] INTEGER 0, v1 written out) is
    // malformed. The request as openssl wrote it is answered.
    byte[] plain = Files.readAllBytes(dir.resolve("req.der"));
    assertThat(plain[1] & 0xff).isLessThan(0x7b); // short lengths, room for five more bytes
    assertThat(plain[2]).isEqualTo((byte) 0x30);
    assertThat(new OCSPResp(postOcsp(plain)).getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);
    for (int version : new int[] {1, 0}) {
      byte[] tbs = java.util.Arrays.copyOfRange(plain, 4, plain.length);
      byte[] withVersion = new byte[tbs.length + 9];
      withVersion[0] = 0x30;
      withVersion[1] = (byte) (tbs.length + 7);
      withVersion[2] = 0x30;
      withVersion[3] = (byte) (tbs.length + 5);
      System.arraycopy(new byte[] {(byte) 0xa0, 3, 2, 1, (byte) version}, 0, withVersion, 4, 5);
      System.arraycopy(tbs, 0, withVersion, 9, tbs.length);
      assertThat(new org.bouncycastle.cert.ocsp.OCSPReq(withVersion).getRequestList())
          .as("Bouncy Castle reads it")
          .hasSize(1);
      assertThat(new OCSPResp(postOcsp(withVersion)).getStatus())
          .as("version field %d", version)
          .isEqualTo(OCSPResp.MALFORMED_REQUEST);
    }
    // One request and nothing after it.
    assertThat(new OCSPResp(postOcsp(java.util.Arrays.copyOf(plain, plain.length + 1))).getStatus())
        .isEqualTo(OCSPResp.MALFORMED_REQUEST);
    OCSPResp ok = new OCSPResp(postOcsp(withNonce(id, 32)));
    assertThat(ok.getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);
    assertThat(
            ((org.bouncycastle.cert.ocsp.BasicOCSPResp) ok.getResponseObject())
                .getExtension(org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers.id_pkix_ocsp_nonce))
        .isNotNull();
  }

  private static byte[] withNonce(org.bouncycastle.cert.ocsp.CertificateID id, int octets)
      throws Exception {
    byte[] nonce = new byte[octets];
    new java.security.SecureRandom().nextBytes(nonce);
    return new org.bouncycastle.cert.ocsp.OCSPReqBuilder()
        .addRequest(id)
        .setRequestExtensions(
            new org.bouncycastle.asn1.x509.Extensions(
                new org.bouncycastle.asn1.x509.Extension(
                    org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers.id_pkix_ocsp_nonce,
                    false,
                    new org.bouncycastle.asn1.DEROctetString(nonce).getEncoded())))
        .build()
        .getEncoded();
  }

  private static byte[] postOcsp(byte[] request) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create(BASE + "/ca/ocsp"))
                .header("Content-Type", "application/ocsp-request")
                .POST(HttpRequest.BodyPublishers.ofByteArray(request))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray())
        .body();
  }

  /**
   * Answers signed on request are limited per client address (here a burst of 100, then one a
   * second): a flood of made-up serials from one address gets {@code tryLater}, that address still
   * gets every cached answer (without its nonce), and another address is not held up.
   */
  @Test
  void aFloodOfFreshSignaturesFromOneAddressGetsTryLaterAndNobodyElseIsHeldUp() throws Exception {
    Path dir = citizenOcspDir();
    issueCitizenInto(dir, "citizen-sign", "孙十三");
    OpenSsl.Result first =
        OpenSsl.run(
            dir,
            "ocsp",
            "-issuer",
            "ca.pem",
            "-cert",
            "leaf.pem",
            "-no_nonce",
            "-url",
            BASE + "/ca/ocsp",
            "-CAfile",
            "chain.pem",
            "-reqout",
            "leaf-req.der");
    assertThat(first.output()).as(first.output()).contains("leaf.pem: good");
    org.bouncycastle.cert.ocsp.CertificateID leafId =
        new org.bouncycastle.cert.ocsp.OCSPReq(Files.readAllBytes(dir.resolve("leaf-req.der")))
            .getRequestList()[0].getCertID();

    // From 127.0.0.2: serials the CA never issued, each answer signed for its request.
    java.security.SecureRandom random = new java.security.SecureRandom();
    int signed = 0;
    int tryLater = 0;
    long start = System.nanoTime();
    for (int i = 0; i < 1000 && tryLater < 5; i++) {
      OCSPResp r = new OCSPResp(postFrom("127.0.0.2", unknownSerialRequest(leafId, random)));
      if (r.getStatus() == OCSPResp.SUCCESSFUL) {
        assertThat(
                ((org.bouncycastle.cert.ocsp.BasicOCSPResp) r.getResponseObject())
                    .getResponses()[0].getCertStatus())
            .isInstanceOf(org.bouncycastle.cert.ocsp.UnknownStatus.class);
        signed++;
      } else {
        assertThat(r.getStatus()).isEqualTo(OCSPResp.TRY_LATER);
        tryLater++;
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(tryLater).as("tryLater after %d signed in %.1f s", signed, seconds).isEqualTo(5);
    assertThat(signed).isBetween(100, 100 + (int) Math.ceil(seconds) + 1);

    // openssl reads the refusal as the responder's status tryLater (3).
    Files.write(
        dir.resolve("later.der"),
        afterRefusal(
            leafId,
            random,
            unknownSerialRequest(leafId, random),
            r -> r.getStatus() == OCSPResp.TRY_LATER));
    assertThat(OpenSsl.run(dir, "ocsp", "-respin", "later.der", "-resp_text").output())
        .containsIgnoringCase("trylater (3)");
    // Two certificates in one request need a signature of their own: tryLater.
    byte[] two =
        new org.bouncycastle.cert.ocsp.OCSPReqBuilder()
            .addRequest(leafId)
            .addRequest(
                new org.bouncycastle.cert.ocsp.OCSPReq(unknownSerialRequest(leafId, random))
                    .getRequestList()[0].getCertID())
            .build()
            .getEncoded();
    afterRefusal(leafId, random, two, r -> r.getStatus() == OCSPResp.TRY_LATER);
    // A nonce request about the certificate: its cached answer, without the nonce, still true.
    Files.write(
        dir.resolve("cached.der"),
        afterRefusal(
            leafId,
            random,
            withNonce(leafId, 16),
            r ->
                r.getStatus() == OCSPResp.SUCCESSFUL
                    && ((org.bouncycastle.cert.ocsp.BasicOCSPResp) r.getResponseObject())
                            .getExtension(
                                org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers.id_pkix_ocsp_nonce)
                        == null));
    OpenSsl.Result cached =
        OpenSsl.run(
            dir,
            "ocsp",
            "-respin",
            "cached.der",
            "-issuer",
            "ca.pem",
            "-cert",
            "leaf.pem",
            "-CAfile",
            "chain.pem",
            "-resp_text");
    assertThat(cached.output())
        .as(cached.output())
        .contains("Response verify OK")
        .contains("leaf.pem: good")
        .doesNotContain("OCSP Nonce");

    // 127.0.0.1 is another address: its nonce request about a serial never issued is signed.
    assertThat(ocsp(dir, "-serial", "0x5eed5eed5eed5eed")).contains("0x5eed5eed5eed5eed: unknown");
  }

  /**
   * The answer to {@code request} from 127.0.0.2 sent right after that address was refused (made-up
   * serials sent until one is answered tryLater); sent again, after another refusal, while the
   * answer is not {@code limited} (a token may come back in between), five times at most.
   */
  private static byte[] afterRefusal(
      org.bouncycastle.cert.ocsp.CertificateID like,
      java.security.SecureRandom random,
      byte[] request,
      AnswerCheck limited)
      throws Exception {
    for (int attempt = 0; attempt < 5; attempt++) {
      int sent = 0;
      while (new OCSPResp(postFrom("127.0.0.2", unknownSerialRequest(like, random))).getStatus()
          != OCSPResp.TRY_LATER) {
        assertThat(++sent).as("made-up serials answered before a refusal").isLessThan(10);
      }
      byte[] answer = postFrom("127.0.0.2", request);
      if (limited.test(new OCSPResp(answer))) {
        return answer;
      }
    }
    throw new AssertionError("never answered as an address over its limit is");
  }

  /** Whether an OCSP answer is as expected. */
  private interface AnswerCheck {
    boolean test(OCSPResp answer) throws Exception;
  }

  /** A request about a random 64-bit serial of {@code like}'s issuer, which it never issued. */
  private static byte[] unknownSerialRequest(
      org.bouncycastle.cert.ocsp.CertificateID like, java.security.SecureRandom random)
      throws Exception {
    return new org.bouncycastle.cert.ocsp.OCSPReqBuilder()
        .addRequest(
            org.bouncycastle.cert.ocsp.CertificateID.deriveCertificateID(
                like, new java.math.BigInteger(64, random).setBit(63)))
        .build()
        .getEncoded();
  }

  /** POSTs an OCSP request to the node from {@code local} (127.0.0.0/8); the answer's body. */
  private static byte[] postFrom(String local, byte[] request) throws IOException {
    io.yinxin.hsm.testing.LoopbackClient.Answer a =
        io.yinxin.hsm.testing.LoopbackClient.post(
            local, PORT, "/ca/ocsp", "application/ocsp-request", request);
    assertThat(a.status()).isEqualTo(200);
    return a.body();
  }

  @Test
  void aCachedGetAnswerIsReplacedAsSoonAsTheCertificateIsRevoked() throws Exception {
    Path dir = work();
    Files.writeString(dir.resolve("ca.pem"), caPem("citizen"));
    Map<String, Object> c =
        issue(
            "citizen-sign",
            TestCsr.p256(),
            Map.of("name", "吴十", "idNumber", "11010519491231002X"),
            Map.of());
    String url = ocspGetUrl(dir, c);
    assertThat(ocspGetStatus(url)).isNull(); // good, now cached
    byte[] first = getBytes(url);
    assertThat(getBytes(url)).isEqualTo(first); // served from the cache: the same signed bytes
    // RFC 5019 §6.2 caching headers on a cached GET answer.
    HttpResponse<byte[]> cachedGet =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).build(),
            HttpResponse.BodyHandlers.ofByteArray());
    java.net.http.HttpHeaders h = cachedGet.headers();
    Matcher cc =
        Pattern.compile("max-age=([0-9]+), public, no-transform, must-revalidate")
            .matcher(h.firstValue("Cache-Control").orElseThrow());
    assertThat(cc.matches()).isTrue();
    assertThat(Long.parseLong(cc.group(1))).isBetween(1L, 3600L);
    assertThat(h.firstValue("Expires")).isPresent();
    assertThat(h.firstValue("Last-Modified")).isPresent();
    assertThat(h.firstValue("ETag").orElseThrow()).matches("\"[0-9a-f]{32}\"");
    // An unknown serial is answered, signed, and neither cached nor marked cacheable.
    int cachedBefore = ocspResponder.cached();
    for (int i = 0; i < 20; i++) {
      String unknown = ocspGetUrlForSerial(dir, "0x" + Long.toHexString(0x7e57_0000L + i));
      HttpResponse<byte[]> u =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(unknown)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertThat(u.headers().firstValue("Cache-Control")).isEmpty();
      assertThat(
              ((org.bouncycastle.cert.ocsp.BasicOCSPResp)
                      new OCSPResp(u.body()).getResponseObject())
                  .getResponses()[0].getCertStatus())
          .isInstanceOf(org.bouncycastle.cert.ocsp.UnknownStatus.class);
    }
    assertThat(ocspResponder.cached()).isLessThanOrEqualTo(cachedBefore);
    // Another spelling of the same request (every character percent-encoded, no padding) is the
    // same cache entry.
    String encoded = url.substring(url.indexOf("/ca/ocsp/") + "/ca/ocsp/".length());
    StringBuilder respelled = new StringBuilder();
    for (char ch :
        java.net.URLDecoder.decode(encoded, java.nio.charset.StandardCharsets.ISO_8859_1)
            .replace(" ", "+")
            .replace("=", "")
            .toCharArray()) {
      respelled.append(String.format("%%%02X", (int) ch));
    }
    int spellings = ocspResponder.frontCached();
    assertThat(getBytes(BASE + "/ca/ocsp/" + respelled)).isEqualTo(first);
    assertThat(ocspResponder.frontCached()).isEqualTo(spellings);
    post(
        "/ca/v1/certificates/citizen/" + c.get("serial") + "/revoke",
        "{\"reason\":\"affiliationChanged\"}",
        OPERATOR);
    Object status = ocspGetStatus(url);
    assertThat(status).isInstanceOf(org.bouncycastle.cert.ocsp.RevokedStatus.class);
    assertThat(((org.bouncycastle.cert.ocsp.RevokedStatus) status).getRevocationReason())
        .isEqualTo(org.bouncycastle.asn1.x509.CRLReason.affiliationChanged);
  }

  /**
   * The race the status version closes: a revocation lands after a responder read the status {@code
   * good} and before it stored the answer it signed. The answer must not stay cached.
   */
  @Test
  void aRevocationBetweenTheStatusReadAndTheStoreNeverLeavesGoodInTheCache() throws Exception {
    Map<String, Object> c =
        issue(
            "citizen-sign",
            TestCsr.p256(),
            Map.of("name", "陈十四", "idNumber", "11010519491231002X"),
            Map.of());
    String serial = (String) c.get("serial");
    io.yinxin.ca.ocsp.OcspResponder[] responder = new io.yinxin.ca.ocsp.OcspResponder[1];
    java.util.concurrent.atomic.AtomicBoolean raced =
        new java.util.concurrent.atomic.AtomicBoolean();
    io.yinxin.hsm.KeyService racing =
        new io.yinxin.hsm.KeyService() {
          @Override
          public io.yinxin.hsm.KeyInfo generate(
              io.yinxin.hsm.KeyRef.Scheme scheme, io.yinxin.hsm.KeySpec spec, String label) {
            return keyService.generate(scheme, spec, label);
          }

          @Override
          public java.security.PublicKey publicKey(io.yinxin.hsm.KeyRef ref) {
            return keyService.publicKey(ref);
          }

          @Override
          public byte[] sign(
              io.yinxin.hsm.KeyRef ref,
              io.yinxin.hsm.SignatureAlgorithm alg,
              byte[] data,
              String purpose) {
            return keyService.sign(ref, alg, data, purpose);
          }

          @Override
          public byte[] signRecordedByCaller(
              io.yinxin.hsm.KeyRef ref,
              io.yinxin.hsm.SignatureAlgorithm alg,
              byte[] data,
              String purpose) {
            // The status was read (good); the certificate is revoked before the answer is stored.
            if (raced.compareAndSet(false, true)) {
              revocationService.revoke("op", "citizen", serial, "keyCompromise");
              responder[0].invalidate("citizen", serial);
            }
            return keyService.signRecordedByCaller(ref, alg, data, purpose);
          }

          @Override
          public io.yinxin.hsm.KeyInfo describe(io.yinxin.hsm.KeyRef ref) {
            return keyService.describe(ref);
          }

          @Override
          public io.yinxin.hsm.KeyRef generateDataKey(
              io.yinxin.hsm.KeyRef.Scheme scheme, io.yinxin.hsm.DataKeySpec spec, String label) {
            return keyService.generateDataKey(scheme, spec, label);
          }

          @Override
          public java.util.Optional<io.yinxin.hsm.DataKeySpec> dataKey(io.yinxin.hsm.KeyRef ref) {
            return keyService.dataKey(ref);
          }

          @Override
          public byte[] encrypt(
              io.yinxin.hsm.KeyRef ref, byte[] plaintext, byte[] associatedData, String purpose) {
            return keyService.encrypt(ref, plaintext, associatedData, purpose);
          }

          @Override
          public byte[] decrypt(
              io.yinxin.hsm.KeyRef ref, byte[] ciphertext, byte[] associatedData, String purpose) {
            return keyService.decrypt(ref, ciphertext, associatedData, purpose);
          }

          @Override
          public byte[] encryptRecordedByCaller(
              io.yinxin.hsm.KeyRef ref, byte[] plaintext, byte[] associatedData, String purpose) {
            return keyService.encryptRecordedByCaller(ref, plaintext, associatedData, purpose);
          }

          @Override
          public byte[] decryptRecordedByCaller(
              io.yinxin.hsm.KeyRef ref, byte[] ciphertext, byte[] associatedData, String purpose) {
            return keyService.decryptRecordedByCaller(ref, ciphertext, associatedData, purpose);
          }

          @Override
          public byte[] signDigest(
              io.yinxin.hsm.KeyRef ref,
              io.yinxin.hsm.SignatureAlgorithm alg,
              byte[] digest,
              String purpose) {
            return keyService.signDigest(ref, alg, digest, purpose);
          }

          @Override
          public byte[] signDigestRecordedByCaller(
              io.yinxin.hsm.KeyRef ref,
              io.yinxin.hsm.SignatureAlgorithm alg,
              byte[] digest,
              String purpose) {
            return keyService.signDigestRecordedByCaller(ref, alg, digest, purpose);
          }

          @Override
          public List<io.yinxin.hsm.KeyInfo> list() {
            return keyService.list();
          }

          @Override
          public io.yinxin.hsm.Health health() {
            return keyService.health();
          }
        };
    responder[0] = TestNodes.ocspResponder(hierarchy, caStore, racing, auditLog);
    responder[0].presign("citizen", serial);
    assertThat(raced).isTrue();
    org.bouncycastle.cert.ocsp.CertificateID id =
        new org.bouncycastle.cert.ocsp.CertificateID(
            new org.bouncycastle.operator.bc.BcDigestCalculatorProvider()
                .get(org.bouncycastle.cert.ocsp.CertificateID.HASH_SHA1),
            hierarchy.issuer("citizen").certificate(),
            new java.math.BigInteger(serial, 16));
    byte[] req =
        new org.bouncycastle.cert.ocsp.OCSPReqBuilder().addRequest(id).build().getEncoded();
    Object status =
        ((org.bouncycastle.cert.ocsp.BasicOCSPResp)
                new OCSPResp(responder[0].respond(req)).getResponseObject())
            .getResponses()[0].getCertStatus();
    assertThat(status).isInstanceOf(org.bouncycastle.cert.ocsp.RevokedStatus.class);
  }

  @Test
  void answersArePreSignedAtIssuanceAndReSignedBeforeTheyExpire() throws Exception {
    Path dir = work();
    Files.writeString(dir.resolve("ca.pem"), caPem("citizen"));
    int before = ocspResponder.cached();
    Map<String, Object> c =
        issue(
            "citizen-sign",
            TestCsr.p256(),
            Map.of("name", "郑十一", "idNumber", "11010519491231002X"),
            Map.of());
    // The pre-signed answer lands in the cache without anyone asking.
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .until(() -> ocspResponder.cached() > before);
    String url = ocspGetUrl(dir, c);
    byte[] first = getBytes(url);
    assertThat(getBytes(url)).isEqualTo(first);
    // Everything due within a day is re-signed now, off the request path.
    assertThat(ocspResponder.refresh(java.time.Duration.ofDays(1))).isPositive();
    byte[] refreshed = getBytes(url);
    assertThat(refreshed).isNotEqualTo(first);
    assertThat(ocspGetStatus(url)).isNull();
  }

  @Test
  void ocspSignaturesAreAuditedAsOneTallyPerSignerKeyNotOneEventEach() throws Exception {
    Path dir = citizenOcspDir();
    Map<String, Object> c = issueCitizenInto(dir, "citizen-sign", "钱十二");
    String signer = hierarchy.service("ocsp-citizen").orElseThrow().key().toString();
    ocspResponder.recordKeyUse();
    long before = keyUsedEvents(signer);
    for (int i = 0; i < 3; i++) {
      assertThat(ocsp(dir, "leaf.pem")).contains("leaf.pem: good"); // openssl sends a nonce
    }
    assertThat(keyUsedEvents(signer)).isEqualTo(before);
    assertThat(ocspResponder.recordKeyUse()).isPositive();
    assertThat(keyUsedEvents(signer)).isEqualTo(before + 1);
    try (Connection conn = DriverManager.getConnection(DB.url(), PostgresDatabase.USER, "");
        PreparedStatement ps =
            conn.prepareStatement(
                "SELECT event, salt FROM audit.events WHERE type = 'KEY_USED' AND subject = ?"
                    + " ORDER BY idx DESC LIMIT 1")) {
      ps.setString(1, signer);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        String event = auditStore.openEvent(rs.getString(1), rs.getBytes(2));
        Matcher m = Pattern.compile("\"count\":\"([0-9]+)\"").matcher(event);
        assertThat(m.find()).as(event).isTrue();
        assertThat(Long.parseLong(m.group(1))).isGreaterThanOrEqualTo(3);
        assertThat(event).contains("\"purpose\":\"ocsp:citizen\"");
      }
    }
  }

  private static long keyUsedEvents(String key) throws Exception {
    try (Connection conn = DriverManager.getConnection(DB.url(), PostgresDatabase.USER, "");
        PreparedStatement ps =
            conn.prepareStatement(
                "SELECT count(*) FROM audit.events WHERE type = 'KEY_USED' AND subject = ?")) {
      ps.setString(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** An OCSP GET URL for an issued certificate (request made by openssl, no nonce). */
  /** A GET URL asking the citizen CA about {@code serial} (e.g. {@code 0x1234}). */
  private static String ocspGetUrlForSerial(Path dir, String serial) throws Exception {
    OpenSsl.run(
        dir, "ocsp", "-issuer", "ca.pem", "-serial", serial, "-no_nonce", "-reqout", "u.der");
    String b64 =
        java.util.Base64.getEncoder().encodeToString(Files.readAllBytes(dir.resolve("u.der")));
    return BASE + "/ca/ocsp/" + b64.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D");
  }

  private static String ocspGetUrl(Path dir, Map<String, Object> issued) throws Exception {
    Files.writeString(dir.resolve("leaf.pem"), (String) issued.get("certificate"));
    OpenSsl.run(
        dir, "ocsp", "-issuer", "ca.pem", "-cert", "leaf.pem", "-no_nonce", "-reqout", "req.der");
    return BASE
        + "/ca/ocsp/"
        + java.util.Base64.getEncoder()
            .encodeToString(Files.readAllBytes(dir.resolve("req.der")))
            .replace("+", "%2B")
            .replace("/", "%2F")
            .replace("=", "%3D");
  }

  private static Object ocspGetStatus(String url) throws Exception {
    OCSPResp resp = new OCSPResp(getBytes(url));
    assertThat(resp.getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);
    org.bouncycastle.cert.ocsp.BasicOCSPResp basic =
        (org.bouncycastle.cert.ocsp.BasicOCSPResp) resp.getResponseObject();
    return basic.getResponses()[0].getCertStatus();
  }

  // ---- bad input: a clear problem, nothing stored

  @Test
  void badRequestsGetProblemDetailsAndStoreNothing() throws Exception {
    long before = certificateCount();
    String csr = TestCsr.p256();
    Map<String, String> id = Map.of("name", "张三", "idNumber", "11010519491231002X");

    assertProblem(
        issueRaw(Map.of("profile", "citizen-sign", "csr", "garbage", "subject", id), OPERATOR),
        400,
        "BAD_CSR",
        "csr");
    assertProblem(
        issueRaw(Map.of("profile", "no-such", "csr", csr, "subject", id), OPERATOR),
        400,
        "UNKNOWN_PROFILE",
        "profile");
    assertProblem(
        issueRaw(Map.of("profile", "ocsp-signer", "csr", csr, "subject", id), OPERATOR),
        400,
        "UNKNOWN_PROFILE",
        "profile");
    assertProblem(
        issueRaw(
            Map.of(
                "profile",
                "citizen-sign",
                "csr",
                csr,
                "subject",
                Map.of("name", "张三", "idNumber", "110105194912310021")),
            OPERATOR),
        400,
        "INVALID_IDENTITY",
        "subject.idNumber");
    assertProblem(
        issueRaw(
            Map.of(
                "profile",
                "enterprise-seal",
                "csr",
                csr,
                "subject",
                Map.of("organization", "x", "creditCode", "91350100M000100Y4I")),
            OPERATOR),
        400,
        "INVALID_IDENTITY",
        "subject.creditCode");
    assertProblem(
        issueRaw(
            Map.of(
                "profile",
                "citizen-sign",
                "csr",
                TestCsr.pem(TestCsr.der(TestCsr.rsa(1024), "SHA256withRSA")),
                "subject",
                id),
            OPERATOR),
        400,
        "BAD_KEY",
        "csr.publicKey");
    assertProblem(
        issueRaw(
            Map.of("profile", "server-tls", "csr", csr, "san", Map.of("dns", List.of("*.gov.cn"))),
            OPERATOR),
        400,
        "INVALID_REQUEST",
        "san.dns");
    assertProblem(
        issueRaw(
            Map.of(
                "profile",
                "server-tls",
                "csr",
                csr,
                "san",
                Map.of("dns", List.of("a.cn"), "ip", List.of("1.2.3.4"))),
            OPERATOR),
        400,
        "INVALID_REQUEST",
        "san");
    byte[] forged = TestCsr.der(TestCsr.ec("secp256r1"), "SHA256withECDSA");
    forged[forged.length - 5] ^= 0x40;
    assertProblem(
        issueRaw(
            Map.of("profile", "citizen-sign", "csr", TestCsr.pem(forged), "subject", id), OPERATOR),
        400,
        "BAD_CSR",
        "csr");

    HttpResponse<String> big =
        post("/ca/v1/certificates", "{\"csr\":\"" + "A".repeat(100_000) + "\"}", OPERATOR);
    assertThat(big.statusCode()).isEqualTo(413);
    HttpResponse<String> notJson = post("/ca/v1/certificates", "{\"profile\":", OPERATOR);
    assertProblem(notJson, 400, "INVALID_REQUEST", "body");

    // Authentication and scopes.
    HttpResponse<String> anon = post("/ca/v1/certificates", "{}", null);
    assertThat(anon.statusCode()).isEqualTo(401);
    assertThat(anon.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
    assertThat(
            issueRaw(Map.of("profile", "citizen-sign", "csr", csr, "subject", id), "wrong-token")
                .statusCode())
        .isEqualTo(401);
    assertProblem(
        issueRaw(Map.of("profile", "citizen-sign", "csr", csr, "subject", id), READER),
        403,
        "FORBIDDEN",
        null);

    // Strict JSON: a member twice, an unknown member, anything after the object.
    HttpResponse<String> twice =
        post(
            "/ca/v1/certificates",
            "{\"profile\":\"citizen-sign\",\"profile\":\"server-tls\",\"csr\":\"x\"}",
            OPERATOR);
    assertThat(twice.statusCode()).isEqualTo(400);
    assertThat(twice.body()).contains("INVALID_REQUEST").contains("twice");
    assertProblem(
        post("/ca/v1/certificates", "{\"profile\":\"citizen-sign\"} {}", OPERATOR),
        400,
        "INVALID_REQUEST",
        "body");
    assertProblem(
        post(
            "/ca/v1/certificates/citizen/abcdef0123/revoke",
            "{\"reason\":\"keyCompromise\",\"when\":\"now\"}",
            OPERATOR),
        400,
        "INVALID_REQUEST",
        "body");

    // A CRL for a partition that holds no certificate is neither published nor served.
    assertProblem(
        post("/ca/v1/cas/citizen/crls?partition=999999", "", OPERATOR), 404, "NOT_FOUND", null);
    assertProblem(
        post("/ca/v1/cas/citizen/crls?delta=true&partition=999999", "", OPERATOR),
        404,
        "NOT_FOUND",
        null);
    assertThat(getBytesStatus(BASE + "/ca/crl/citizen/999999.crl")).isEqualTo(404);

    // Revoking what does not exist.
    assertProblem(
        post("/ca/v1/certificates/citizen/abcdef0123/revoke", "{}", OPERATOR),
        404,
        "NOT_FOUND",
        null);
    assertProblem(
        post("/ca/v1/certificates/citizen/zz/revoke", "{}", OPERATOR),
        400,
        "INVALID_REQUEST",
        "serial");
    assertProblem(
        post("/ca/v1/certificates/nobody/abcd/revoke", "{}", OPERATOR), 404, "NOT_FOUND", null);

    assertThat(certificateCount()).isEqualTo(before);
  }

  @Test
  void everyChainVerifiesWithCrlCheckAllAndCrlsAreServedAsTheyShouldBe() throws Exception {
    Path dir = work();
    HttpResponse<byte[]> rootCrl =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(BASE + "/ca/crl/root/0.crl")).build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(rootCrl.statusCode()).isEqualTo(200);
    assertThat(rootCrl.headers().firstValue("Content-Type")).hasValue("application/pkix-crl");
    assertThat(rootCrl.headers().firstValue("Content-Disposition")).isEmpty();
    org.bouncycastle.cert.X509CRLHolder root =
        new org.bouncycastle.cert.X509CRLHolder(rootCrl.body());
    assertThat(root.getExtension(org.bouncycastle.asn1.x509.Extension.issuingDistributionPoint))
        .isNull();
    assertThat(root.getExtension(org.bouncycastle.asn1.x509.Extension.freshestCRL)).isNull();
    assertThat(getBytesStatus(BASE + "/ca/crl/root/0-delta.crl")).isEqualTo(404);
    assertThat(
            java.time.Duration.between(
                root.getThisUpdate().toInstant(), root.getNextUpdate().toInstant()))
        .isGreaterThanOrEqualTo(java.time.Duration.ofDays(7));

    Files.write(dir.resolve("root.crl"), rootCrl.body());
    OpenSsl.run(dir, "crl", "-inform", "DER", "-in", "root.crl", "-out", "root-crl.pem");
    Files.writeString(dir.resolve("root.pem"), caPem("root"));
    // Each issuing CA's chain, with revocation checked at every level but the anchor's own.
    for (String ca : List.of("citizen", "enterprise", "tls")) {
      Files.writeString(dir.resolve(ca + ".pem"), caPem(ca));
      OpenSsl.Result v =
          OpenSsl.run(
              dir,
              "verify",
              "-crl_check_all",
              "-CRLfile",
              "root-crl.pem",
              "-CAfile",
              "root.pem",
              ca + ".pem");
      assertThat(v.output()).as(ca + ": " + v.output()).contains(ca + ".pem: OK");
    }

    // A valid leaf: its CA's full CRL and the root's, every level checked.
    Files.writeString(dir.resolve("ca.pem"), caPem("citizen"));
    Map<String, Object> c = issueCitizenInto(dir, "citizen-sign", "冯十三");
    String crlUrl = crlUrlOf(dir, "leaf.pem");
    String partition = partitionOf(crlUrl);
    assertThat(post("/ca/v1/cas/citizen/crls?partition=" + partition, "", OPERATOR).statusCode())
        .isEqualTo(200);
    byte[] full = getBytes(crlUrl);
    Files.write(dir.resolve("full.crl"), full);
    OpenSsl.run(dir, "crl", "-inform", "DER", "-in", "full.crl", "-out", "full.pem");
    OpenSsl.Result leaf =
        OpenSsl.run(
            dir,
            "verify",
            "-crl_check_all",
            "-CRLfile",
            "full.pem",
            "-CRLfile",
            "root-crl.pem",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "ca.pem",
            "leaf.pem");
    assertThat(leaf.output()).as(leaf.output()).contains("leaf.pem: OK");
    assertThat(c.get("serial")).isNotNull();

    // The on-demand full CRL was followed by a delta based on it (RFC 5280 §5.2.4).
    org.bouncycastle.cert.X509CRLHolder fullCrl = new org.bouncycastle.cert.X509CRLHolder(full);
    java.math.BigInteger fullNumber =
        org.bouncycastle.asn1.x509.CRLNumber.getInstance(
                fullCrl
                    .getExtension(org.bouncycastle.asn1.x509.Extension.cRLNumber)
                    .getParsedValue())
            .getCRLNumber();
    org.bouncycastle.cert.X509CRLHolder delta =
        new org.bouncycastle.cert.X509CRLHolder(
            getBytes(BASE + "/ca/crl/citizen/" + partition + "-delta.crl"));
    java.math.BigInteger base =
        org.bouncycastle.asn1.x509.CRLNumber.getInstance(
                delta
                    .getExtension(org.bouncycastle.asn1.x509.Extension.deltaCRLIndicator)
                    .getParsedValue())
            .getCRLNumber();
    assertThat(base).isEqualTo(fullNumber);
  }

  @Test
  void serviceAndAcmeProfilesAreNotRequestableOverRestAndTheTlsCaNamesItsPoliciesAndEkus()
      throws Exception {
    for (String profile : List.of("tsa", "ocsp-signer", "server-tls-acme")) {
      HttpResponse<String> r =
          issueRaw(
              Map.of(
                  "profile",
                  profile,
                  "csr",
                  TestCsr.p256(),
                  "subject",
                  Map.of("name", "Yinxin Root CA R1"),
                  "san",
                  Map.of("dns", List.of("x.gov.localhost"))),
              OPERATOR);
      assertThat(r.statusCode()).as(profile + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("UNKNOWN_PROFILE");
    }
    Path dir = work();
    Files.writeString(dir.resolve("tls.pem"), caPem("tls"));
    String tlsCa = OpenSsl.run(dir, "x509", "-in", "tls.pem", "-noout", "-text").output();
    assertThat(tlsCa)
        .contains("TLS Web Server Authentication, TLS Web Client Authentication")
        .contains("Policy: 2.23.140.1.2.1")
        .contains("Policy: 2.23.140.1.2.2")
        .contains("OCSP - URI:" + BASE + "/ca/ocsp");
    // The root's responder answers for the intermediate (its AIA names it).
    Files.writeString(dir.resolve("ca.pem"), caPem("root"));
    Files.writeString(dir.resolve("chain.pem"), caPem("root"));
    assertThat(ocsp(dir, "tls.pem")).contains("tls.pem: good");
  }

  /**
   * Independent stacks judge what the CA issues: GnuTLS ({@code certtool --verify}, {@code ocsptool
   * --ask}), NSS ({@code vfychain}, a TLS server chain) and Go's crypto/x509 (strict parsing of
   * certificates and CRLs, chains verified with the right key usages). ops/bin/test installs the
   * Debian packages; the test is skipped only where they are missing.
   */
  @Test
  void gnutlsNssAndGoAcceptTheChainsCrlsAndOcspAnswers() throws Exception {
    assumeTrue(onPath("certtool") && onPath("ocsptool") && onPath("vfychain") && onPath("go"));
    Path dir = work();
    Files.writeString(dir.resolve("root.pem"), caPem("root"));
    Files.writeString(dir.resolve("tls.pem"), caPem("tls"));
    Files.writeString(dir.resolve("citizen.pem"), caPem("citizen"));
    Map<String, Object> server =
        issue(
            "server-tls",
            TestCsr.p256(),
            Map.of("organization", "某市政务服务中心", "province", "广东省", "locality", "广州市"),
            Map.of("dns", List.of("judge.gov.localhost")));
    Files.writeString(dir.resolve("server.pem"), (String) server.get("certificate"));
    Map<String, Object> citizen =
        issue(
            "citizen-auth",
            TestCsr.p256(),
            Map.of("name", "褚十五", "idNumber", "11010519491231002X"),
            Map.of());
    Files.writeString(dir.resolve("person.pem"), (String) citizen.get("certificate"));
    Files.writeString(dir.resolve("server-chain.pem"), server.get("certificate") + caPem("tls"));
    Files.writeString(
        dir.resolve("person-chain.pem"), citizen.get("certificate") + caPem("citizen"));

    // GnuTLS: both chains, and an OCSP answer fetched from the AIA URL.
    for (String chain : List.of("server-chain.pem", "person-chain.pem")) {
      Judge.Result v =
          Judge.run(
              dir, "certtool", "--verify", "--load-ca-certificate", "root.pem", "--infile", chain);
      assertThat(v.output())
          .as(chain + ": " + v.output())
          .contains("Chain verification output: Verified");
    }
    Judge.Result ask =
        Judge.run(
            dir, "ocsptool", "--ask", "--load-issuer", "tls.pem", "--load-cert", "server.pem");
    assertThat(ask.output())
        .as(ask.output())
        .contains("Certificate Status: good")
        .contains("Verifying OCSP Response: Success.");

    // NSS: the TLS chain for a server (usage 1), against an NSS database trusting the root.
    Path nss = Files.createDirectories(dir.resolve("nss"));
    Judge.run(dir, "certutil", "-N", "-d", "sql:" + nss, "--empty-password");
    Judge.run(
        dir, "certutil", "-A", "-d", "sql:" + nss, "-n", "root", "-t", "C,,", "-i", "root.pem");
    Judge.run(dir, "certutil", "-A", "-d", "sql:" + nss, "-n", "tls", "-t", ",,", "-i", "tls.pem");
    Judge.Result nssChain =
        Judge.run(dir, "vfychain", "-d", "sql:" + nss, "-u", "1", "-a", "server.pem");
    assertThat(nssChain.output()).as(nssChain.output()).contains("Chain is good!");

    // Go: strict parsing and chains with key usages, CRLs signed by their issuers.
    String crlUrl = crlUrlOf(dir, "person.pem");
    assertThat(
            post("/ca/v1/cas/citizen/crls?partition=" + partitionOf(crlUrl), "", OPERATOR)
                .statusCode())
        .isEqualTo(200);
    Files.write(dir.resolve("citizen.crl"), getBytes(crlUrl));
    Files.write(dir.resolve("root.crl"), getBytes(BASE + "/ca/crl/root/0.crl"));
    Path judge = Path.of("src/test/go/x509judge.go").toAbsolutePath();
    Judge.Result goServer =
        Judge.run(
            dir, "go", "run", judge.toString(), "root.pem", "tls.pem", "server.pem", "server");
    assertThat(goServer.output()).as(goServer.output()).contains("JUDGE OK");
    Judge.Result goPerson =
        Judge.run(
            dir,
            "go",
            "run",
            judge.toString(),
            "root.pem",
            "citizen.pem",
            "person.pem",
            "client",
            "citizen.crl",
            "root.crl");
    assertThat(goPerson.output()).as(goPerson.output()).contains("JUDGE OK");
  }

  private static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }

  /** Runs an outside tool in {@code dir}, Go's caches kept there too. */
  static final class Judge {
    record Result(int exit, String output) {}

    static Result run(Path dir, String... cmd) throws Exception {
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
      pb.environment().put("GOCACHE", dir.resolve(".gocache").toString());
      pb.environment().put("GOPATH", dir.resolve(".gopath").toString());
      pb.environment().put("GOFLAGS", "-mod=mod");
      pb.environment().put("GO111MODULE", "off");
      Process p = pb.start();
      String out =
          new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      return new Result(p.waitFor(), out);
    }
  }

  @Test
  void aKeyWhoseCertificateWasRevokedCannotBeCertifiedAgain() throws Exception {
    String csr = TestCsr.p256();
    Map<String, String> id = Map.of("name", "孙八", "idNumber", "11010519491231002X");
    Map<String, Object> c = issue("citizen-sign", csr, id, Map.of());
    post(
        "/ca/v1/certificates/citizen/" + c.get("serial") + "/revoke",
        "{\"reason\":\"keyCompromise\"}",
        OPERATOR);
    assertProblem(
        issueRaw(Map.of("profile", "citizen-sign", "csr", csr, "subject", id), OPERATOR),
        400,
        "BAD_KEY",
        "csr.publicKey");
  }

  @Test
  void aRevokedKeySentWithACompressedPointIsStillRefused() throws Exception {
    java.security.KeyPair kp = TestCsr.ec("secp256r1");
    Map<String, String> id = Map.of("name", "孙八", "idNumber", "11010519491231002X");
    Map<String, Object> c =
        issue("citizen-sign", TestCsr.pem(TestCsr.der(kp, "SHA256withECDSA")), id, Map.of());
    post(
        "/ca/v1/certificates/citizen/" + c.get("serial") + "/revoke",
        "{\"reason\":\"keyCompromise\"}",
        OPERATOR);
    String compressed = TestCsr.pem(TestCsr.derOtherKeyEncoding(kp, "SHA256withECDSA"));
    // A fresh key sent compressed is certified with its uncompressed point.
    java.security.KeyPair fresh = TestCsr.ec("secp256r1");
    Map<String, Object> f =
        issue(
            "citizen-sign",
            TestCsr.pem(TestCsr.derOtherKeyEncoding(fresh, "SHA256withECDSA")),
            id,
            Map.of());
    java.security.cert.X509Certificate cert =
        (java.security.cert.X509Certificate)
            java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(
                    new java.io.ByteArrayInputStream(
                        ((String) f.get("certificate"))
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    assertThat(cert.getPublicKey().getEncoded()).isEqualTo(fresh.getPublic().getEncoded());
    assertProblem(
        issueRaw(Map.of("profile", "citizen-sign", "csr", compressed, "subject", id), OPERATOR),
        400,
        "BAD_KEY",
        "csr.publicKey");
  }

  @Test
  void aSearchIsPagedNewestFirstWithoutGapsOrRepeatsEvenAcrossEqualIssueTimes() throws Exception {
    List<String> serials = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      serials.add(
          (String)
              issue(
                      "citizen-sign",
                      TestCsr.p256(),
                      Map.of("name", "翁十", "idNumber", "11010519491231002X"),
                      Map.of())
                  .get("serial"));
    }
    // Three of them issued in the same instant, as a batch or two nodes can.
    try (Connection conn = DriverManager.getConnection(DB.url(), PostgresDatabase.USER, "");
        java.sql.PreparedStatement ps =
            conn.prepareStatement(
                "UPDATE ca.certificates SET issued_at = (SELECT issued_at FROM ca.certificates"
                    + " WHERE issuer = 'citizen' AND serial = ?) WHERE issuer = 'citizen'"
                    + " AND serial IN (?, ?)")) {
      ps.setString(1, serials.get(1));
      ps.setString(2, serials.get(2));
      ps.setString(3, serials.get(3));
      ps.executeUpdate();
    }
    String query = "/ca/v1/certificates?subject=%E7%BF%81%E5%8D%81&limit=2";
    List<String> walked = new java.util.ArrayList<>();
    List<Integer> sizes = new java.util.ArrayList<>();
    String after = null;
    do {
      HttpResponse<String> r =
          get(query + (after == null ? "" : "&after=" + after.replace("/", "%2F")), READER);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode page = JSON.readTree(r.body());
      sizes.add(page.path("items").size());
      page.path("items").forEach(i -> walked.add(i.path("serial").asString()));
      after = page.path("next").isNull() ? null : page.path("next").asString();
    } while (after != null && sizes.size() < 10);
    // Newest first, then CA and serial: the order the database gives for the same rows.
    List<String> expected = new java.util.ArrayList<>();
    try (Connection conn = DriverManager.getConnection(DB.url(), PostgresDatabase.USER, "");
        Statement st = conn.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT serial FROM ca.certificates WHERE subject LIKE '%翁十%'"
                    + " ORDER BY issued_at DESC, issuer, serial")) {
      while (rs.next()) {
        expected.add(rs.getString(1));
      }
    }
    assertThat(expected).containsExactlyInAnyOrderElementsOf(serials);
    assertThat(walked).containsExactlyElementsOf(expected);
    // A page that is not full has no next.
    assertThat(sizes).containsExactly(2, 2, 1);

    for (String bad :
        new String[] {
          "citizen/" + serials.get(0).toUpperCase(java.util.Locale.ROOT),
          "citizen/00" + serials.get(0),
          "citizen/ffffffffffffffffffffffffffffffff",
          "nosuchca/" + serials.get(0),
          serials.get(0),
          "/" + serials.get(0),
          "citizen/"
        }) {
      assertProblem(
          get(
              query
                  + "&after="
                  + java.net.URLEncoder.encode(bad, java.nio.charset.StandardCharsets.UTF_8),
              READER),
          400,
          "INVALID_REQUEST",
          "after");
    }
  }

  @Test
  void operatorsCanGetAndSearchAndEveryIssuanceIsAudited() throws Exception {
    Map<String, Object> c =
        issue(
            "citizen-sign",
            TestCsr.p256(),
            Map.of("name", "周九", "idNumber", "11010519491231002X"),
            Map.of());
    HttpResponse<String> got = get("/ca/v1/certificates/citizen/" + c.get("serial"), READER);
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(got.body()).contains("周九").contains("\"status\":\"valid\"");
    HttpResponse<String> found =
        get("/ca/v1/certificates?profile=citizen-sign&subject=%E5%91%A8%E4%B9%9D", READER);
    assertThat(found.body()).contains((String) c.get("serial"));
    assertThat(get("/ca/v1/certificates?issuer=citizen&profile=citizen-sign", READER).body())
        .contains((String) c.get("serial"));
    // A misspelt CA or profile is said to be one, not answered with an empty list.
    assertThat(get("/ca/v1/certificates?profile=ocsp-signer", READER).statusCode()).isEqualTo(200);
    for (String q : new String[] {"issuer=citzen", "profile=citizen-sgn"}) {
      HttpResponse<String> typo = get("/ca/v1/certificates?" + q, READER);
      assertThat(typo.statusCode()).as(q).isEqualTo(400);
      assertThat(typo.body()).contains("\"field\":\"" + q.substring(0, q.indexOf('=')) + "\"");
    }
    assertThat(get("/ca/v1/certificates/citizen/" + c.get("serial"), null).statusCode())
        .isEqualTo(401);
    try (Connection conn = DriverManager.getConnection(DB.url(), PostgresDatabase.USER, "");
        Statement s = conn.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT actor, event, salt FROM audit.events WHERE type = 'CERT_ISSUED' AND subject ="
                    + " 'citizen/"
                    + c.get("serial")
                    + "'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("ra-1");
      // The event records the use of the CA key too (no separate KEY_USED for it).
      assertThat(rs.getString(2)).startsWith("enc:").doesNotContain("周九");
      assertThat(auditStore.openEvent(rs.getString(2), rs.getBytes(3)))
          .contains("\"signingKey\":\"soft:ca-citizen\"");
    }
  }

  @Test
  void anIssuersAccessTokensWorkBesideTheConfiguredOperatorsAndForgeriesDoNot() throws Exception {
    String portal = ISSUER.sign(ISSUER.claims("ra-portal", "openid ca:issue ca:read").build());
    Map<String, Object> body =
        Map.of(
            "profile",
            "citizen-sign",
            "csr",
            TestCsr.p256(),
            "subject",
            Map.of("name", "吴十", "idNumber", "11010519491231002X"),
            "san",
            Map.of());
    HttpResponse<String> r = issueRaw(body, portal);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    String serial = (String) JSON.readValue(r.body(), Map.class).get("serial");
    assertThat(get("/ca/v1/certificates/citizen/" + serial, portal).statusCode()).isEqualTo(200);
    try (Connection conn = DriverManager.getConnection(DB.url(), PostgresDatabase.USER, "");
        Statement st = conn.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT actor FROM audit.events WHERE type = 'CERT_ISSUED' AND subject ="
                    + " 'citizen/"
                    + serial
                    + "'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("ra-portal");
    }
    // A token without the scope is 403 and issues nothing; forgeries are 401 and issue nothing.
    String reader = ISSUER.sign(ISSUER.claims("ra-portal", "ca:read").build());
    long before = countCertificates();
    HttpResponse<String> noScope = issueRaw(body, reader);
    assertThat(noScope.statusCode()).as(noScope.body()).isEqualTo(403);
    for (String forged : ISSUER.forgeries("ra-portal", "ca:issue ca:read")) {
      assertThat(issueRaw(body, forged).statusCode()).as(forged).isEqualTo(401);
    }
    assertThat(countCertificates()).isEqualTo(before);
    // The audit API takes the same issuer's tokens with audit:* scopes.
    String auditor = ISSUER.sign(ISSUER.claims("auditor-1", "audit:read").build());
    assertThat(get("/audit/v1/check", auditor).statusCode()).isEqualTo(200);
    assertThat(get("/audit/v1/check", portal).statusCode()).isEqualTo(403);
    assertThat(
            get("/audit/v1/check", ISSUER.forgeries("auditor-1", "audit:read").get(1)).statusCode())
        .isEqualTo(401);
  }

  private static long countCertificates() throws Exception {
    try (Connection conn = DriverManager.getConnection(DB.url(), PostgresDatabase.USER, "");
        Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM ca.certificates")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  // ---- helpers

  private String verifyAndText(Path dir, Map<String, Object> issued, String ca) throws Exception {
    Files.writeString(dir.resolve(ca + "-ca.pem"), caPem(ca));
    String leafFile = ca + "-leaf.pem";
    Files.writeString(dir.resolve(leafFile), (String) issued.get("certificate"));
    OpenSsl.Result v =
        OpenSsl.run(dir, "verify", "-CAfile", "root.pem", "-untrusted", ca + "-ca.pem", leafFile);
    assertThat(v.output()).as(v.output()).contains(leafFile + ": OK");
    return OpenSsl.run(dir, "x509", "-in", leafFile, "-noout", "-text").output();
  }

  private static String ocsp(Path dir, String leaf) throws IOException {
    return ocsp(dir, "-cert", leaf);
  }

  /** openssl's OCSP request about {@code -cert file} or {@code -serial n}, with a nonce. */
  private static String ocsp(Path dir, String option, String value) throws IOException {
    OpenSsl.Result r =
        OpenSsl.run(
            dir,
            "ocsp",
            "-issuer",
            "ca.pem",
            option,
            value,
            "-url",
            BASE + "/ca/ocsp",
            "-CAfile",
            "chain.pem",
            "-resp_text");
    // openssl sends a nonce and only warns when the answer lacks it: a warning is a failure here.
    assertThat(r.output())
        .as(r.output())
        .contains("Response verify OK")
        .doesNotContain("no nonce in response")
        .doesNotContain("nonce verify error");
    return r.output();
  }

  private static String crlUrlOf(Path dir, String leaf) throws IOException {
    String text =
        OpenSsl.run(dir, "x509", "-in", leaf, "-noout", "-ext", "crlDistributionPoints").output();
    Matcher m = Pattern.compile("URI:(\\S+\\.crl)").matcher(text);
    assertThat(m.find()).as(text).isTrue();
    return m.group(1);
  }

  private static int getBytesStatus(String url) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static String partitionOf(String crlUrl) {
    Matcher m = Pattern.compile("/([0-9]+)\\.crl$").matcher(crlUrl);
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  /** openssl prints serials as upper-case hex with an even number of digits. */
  private static String serialAsOpenssl(String serial) {
    return serial.length() % 2 == 0 ? serial : "0" + serial;
  }

  private static void assertProblem(HttpResponse<String> r, int status, String code, String field) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(v -> assertThat(v).contains("application/problem+json"));
    assertThat(r.body()).contains("\"code\":\"" + code + "\"");
    if (field != null) {
      assertThat(r.body()).contains("\"field\":\"" + field + "\"");
    }
  }

  private Map<String, Object> issue(
      String profile, String csr, Map<String, String> subject, Map<String, Object> san)
      throws Exception {
    HttpResponse<String> r =
        issueRaw(Map.of("profile", profile, "csr", csr, "subject", subject, "san", san), OPERATOR);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    @SuppressWarnings("unchecked")
    Map<String, Object> m = JSON.readValue(r.body(), Map.class);
    return m;
  }

  private HttpResponse<String> issueRaw(Map<String, Object> body, String token) throws Exception {
    return post("/ca/v1/certificates", JSON.writeValueAsString(body), token);
  }

  private static HttpResponse<String> post(String path, String body, String token)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(BASE + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(BASE + path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static byte[] getBytes(String url) throws Exception {
    HttpResponse<byte[]> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  private static String caPem(String ca) throws Exception {
    HttpResponse<String> r = get("/ca/v1/cas/" + ca + "/certificate?format=pem", null);
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  private long certificateCount() throws Exception {
    try (Connection c = DriverManager.getConnection(DB.url(), PostgresDatabase.USER, "");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM ca.certificates")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** A judge directory with the citizen CA ({@code ca.pem}) and its chain ({@code chain.pem}). */
  private static Path citizenOcspDir() throws Exception {
    Path dir = work();
    Files.writeString(dir.resolve("ca.pem"), caPem("citizen"));
    Files.writeString(dir.resolve("chain.pem"), caPem("citizen") + caPem("root"));
    return dir;
  }

  /** Issues a citizen certificate for {@code name} and writes it to {@code leaf.pem}. */
  private Map<String, Object> issueCitizenInto(Path dir, String profile, String name)
      throws Exception {
    Map<String, Object> c =
        issue(
            profile,
            TestCsr.p256(),
            Map.of("name", name, "idNumber", "11010519491231002X"),
            Map.of());
    Files.writeString(dir.resolve("leaf.pem"), (String) c.get("certificate"));
    return c;
  }

  private static Path work() throws IOException {
    return Files.createTempDirectory(DATA, "judge-");
  }

  private static String sha(String token) {
    return HexFormat.of().formatHex(CaOperators.sha256(token));
  }
}
