package io.yinxin.sign.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;

import eu.europa.esig.dss.enumerations.DigestAlgorithm;
import eu.europa.esig.dss.enumerations.SignatureLevel;
import eu.europa.esig.dss.model.DSSDocument;
import eu.europa.esig.dss.model.InMemoryDocument;
import eu.europa.esig.dss.model.SignatureValue;
import eu.europa.esig.dss.model.ToBeSigned;
import eu.europa.esig.dss.pades.PAdESSignatureParameters;
import eu.europa.esig.dss.pades.signature.PAdESService;
import eu.europa.esig.dss.spi.DSSUtils;
import eu.europa.esig.dss.spi.validation.CommonCertificateVerifier;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.sign.csc.SignatureActivations;
import io.yinxin.sign.pades.RevocationFetcher;
import io.yinxin.sign.registry.Seal;
import io.yinxin.sign.registry.SealRegistry;
import io.yinxin.sign.spring.SignSchema;
import io.yinxin.sign.testing.Judges;
import io.yinxin.sign.testing.TestPdfs;
import io.yinxin.sign.testing.TestPki;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSASSAPSSparams;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.MediaType;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Cloud Signature Consortium API v2 as a remote client uses it. The client is EU DSS: it builds
 * the PAdES signature, asks {@code signatures/signHash} for the signature value, and pdfsig judges
 * the result. Then what an attacker sends: a spent, foreign or expired SAD, another caller's seal,
 * digests of the wrong length or encoding, parameters the key cannot honour. A refused request
 * signs nothing and records nothing; an answered one is a {@code HASH_SIGNED} event.
 */
class CscApiTest {
  private static final String ECDSA_SHA256 = "1.2.840.10045.4.3.2";
  private static final String SHA256 = "2.16.840.1.101.3.4.2.1";
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir static Path dir;
  static LogStore log;
  static Integrator integrator;
  static KeyServices keys;
  static TestPki pki;
  static SealRegistry registry;
  static MockMvc mvc;
  static Seal ecSeal;
  static Seal rsaSeal;
  static Seal otherSeal;
  static Seal sm2Seal;
  static X509CertificateHolder ecCert;

  @BeforeAll
  static void setUp() throws Exception {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:csc;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1");
    log = LogStore.open(ds);
    integrator = new Integrator(log, 100, 1000);
    SignSchema.migrate(ds);
    // The real key-use audit listener: a signature nobody records itself is a KEY_USED event.
    keys =
        new KeyServices(
            List.of(SoftKeyBackend.open(dir.resolve("keys"))),
            List.of(
                new io.yinxin.audit.spring.KeyUseAuditListener(
                    () -> integrator::append, Optional.empty())));
    pki = new TestPki("C=CN,O=Test,CN=CSC Root");
    registry = new SealRegistry(ds, keys, integrator, Clock.systemUTC());
    KeyInfo ec = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "csc-ec");
    ecCert = pki.seal(ec, "C=CN,O=福州某某科技有限公司,CN=CSC Seal");
    ecSeal = seal(ec, ecCert, "erp");
    KeyInfo rsa = keys.generate(KeyRef.Scheme.SOFT, KeySpec.RSA_3072, "csc-rsa");
    rsaSeal = seal(rsa, pki.seal(rsa, "C=CN,O=某局,CN=RSA Seal"), "erp");
    KeyInfo other = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "csc-other");
    otherSeal = seal(other, pki.seal(other, "C=CN,O=别的公司,CN=Other"), "someone-else");
    KeyInfo sm2 = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "csc-sm2");
    X509CertificateHolder sm2Root = TestPki.selfSigned(keys, sm2, "C=CN,O=SM2,CN=SM2 Seal");
    sm2Seal = seal(sm2, sm2Root, "erp");
    SignCallers callers =
        new SignCallers(
            List.of(
                caller("erp", "erp-token"),
                caller("someone-else", "other-token"),
                new SignCallers.Caller(
                    "admin-only",
                    HexFormat.of().formatHex(SignCallers.sha256("admin-token")),
                    List.of("seal:admin"))),
            Optional.empty());
    CscController controller =
        new CscController(
            registry,
            callers,
            keys,
            integrator::append,
            new SignatureActivations(ds, Duration.ofMinutes(5)),
            new RevocationFetcher(Duration.ofSeconds(2), Clock.systemUTC()),
            Optional.empty(),
            Clock.systemUTC());
    mvc = MockMvcBuilders.standaloneSetup(controller).build();
  }

  @AfterAll
  static void tearDown() {
    integrator.close();
  }

  private static SignCallers.Caller caller(String name, String token) {
    return new SignCallers.Caller(
        name, HexFormat.of().formatHex(SignCallers.sha256(token)), List.of("seal:use"));
  }

  private static Seal seal(KeyInfo key, X509CertificateHolder cert, String grantee)
      throws Exception {
    Path pem = TestPki.writePem(Files.createTempFile(dir, "chain", ".pem"), cert, pki.root);
    if (cert.getSubject().equals(cert.getIssuer())) {
      pem = TestPki.writePem(Files.createTempFile(dir, "chain", ".pem"), cert);
    }
    return registry.create(
        "admin",
        new SealRegistry.NewSeal(
            "Seal " + key.ref().label(),
            "",
            key.ref().toString(),
            Files.readString(pem),
            Optional.empty(),
            List.of(grantee)));
  }

  private static MockHttpServletResponse call(String path, String token, String body)
      throws Exception {
    var req =
        post("/csc/v2/" + path)
            .contentType(MediaType.APPLICATION_JSON)
            .content(body.getBytes(StandardCharsets.UTF_8));
    if (token != null) {
      req.header("Authorization", "Bearer " + token);
    }
    return mvc.perform(req).andReturn().getResponse();
  }

  private static JsonNode ok(String path, String token, String body) throws Exception {
    MockHttpServletResponse r = call(path, token, body);
    assertThat(r.getStatus()).as(r.getContentAsString()).isEqualTo(200);
    return JSON.readTree(r.getContentAsString(StandardCharsets.UTF_8));
  }

  /** Asserts a refusal in the API's error format and that nothing was recorded. */
  private static JsonNode refused(int status, String path, String token, String body)
      throws Exception {
    long before = log.size();
    MockHttpServletResponse r = call(path, token, body);
    assertThat(r.getStatus()).as(body + " -> " + r.getContentAsString()).isEqualTo(status);
    JsonNode error = JSON.readTree(r.getContentAsString(StandardCharsets.UTF_8));
    assertThat(error.path("error").asString()).isNotEmpty();
    assertThat(error.path("error_description").asString()).isNotEmpty();
    assertThat(log.size()).isEqualTo(before);
    return error;
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  private static byte[] sha256(byte[] b) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(b);
  }

  private static String signHash(String credential, String sad, String signAlgo, byte[]... hashes) {
    List<String> h = new ArrayList<>();
    for (byte[] x : hashes) {
      h.add("\"" + b64(x) + "\"");
    }
    return "{\"credentialID\":\""
        + credential
        + "\""
        + (sad == null ? "" : ",\"SAD\":\"" + sad + "\"")
        + ",\"hashes\":["
        + String.join(",", h)
        + "],\"hashAlgorithmOID\":\""
        + SHA256
        + "\",\"signAlgo\":\""
        + signAlgo
        + "\"}";
  }

  private static String authorize(String credential, int n, byte[]... hashes) {
    List<String> h = new ArrayList<>();
    for (byte[] x : hashes) {
      h.add("\"" + b64(x) + "\"");
    }
    return "{\"credentialID\":\""
        + credential
        + "\",\"numSignatures\":"
        + n
        + (hashes.length == 0
            ? ""
            : ",\"hashAlgorithmOID\":\"" + SHA256 + "\",\"hashes\":[" + String.join(",", h) + "]")
        + "}";
  }

  /**
   * {@code maxResults} and {@code pageToken}: a page holds at most what was asked, the pages
   * together are the whole list once each; a count out of range, a number that overflows and a
   * token that is not one this API gave are refused, not read as something else.
   */
  @Test
  void credentialsArePagedAsAskedAndBadPagingIsRefused() throws Exception {
    JsonNode all = ok("credentials/list", "erp-token", "{}");
    assertThat(all.has("nextPageToken")).isFalse();
    List<String> expected = new ArrayList<>();
    all.path("credentialIDs").forEach(n -> expected.add(n.asString()));
    assertThat(expected).hasSizeGreaterThanOrEqualTo(3).isSorted();
    for (int size : new int[] {1, 2}) {
      List<String> paged = new ArrayList<>();
      String token = null;
      for (int pages = 0; pages < 10; pages++) {
        JsonNode page =
            ok(
                "credentials/list",
                "erp-token",
                "{\"maxResults\":"
                    + size
                    + (token == null ? "" : ",\"pageToken\":\"" + token + "\"")
                    + "}");
        assertThat(page.path("credentialIDs").size()).isBetween(1, size);
        page.path("credentialIDs").forEach(n -> paged.add(n.asString()));
        if (!page.has("nextPageToken")) {
          break;
        }
        token = page.path("nextPageToken").asString();
      }
      assertThat(paged).as("pages of " + size).isEqualTo(expected);
    }
    String token =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(expected.get(0).getBytes(StandardCharsets.UTF_8));
    for (String bad :
        List.of(
            "{\"maxResults\":0}",
            "{\"maxResults\":-1}",
            "{\"maxResults\":1001}",
            "{\"maxResults\":4294967297}",
            "{\"maxResults\":1.5}",
            "{\"maxResults\":\"2\"}",
            "{\"pageToken\":\"!!\"}",
            "{\"pageToken\":\"\"}",
            "{\"pageToken\":\"" + token + "=\"}",
            "{\"pageToken\":7}")) {
      refused(400, "credentials/list", "erp-token", bad);
    }
  }

  @Test
  void euDssSealsAPdfThroughSignHashAndPdfsigReportsItValidAndTrusted() throws Exception {
    Path in = dir.resolve("remote.pdf");
    TestPdfs.contract(in);
    PAdESService service = new PAdESService(new CommonCertificateVerifier());
    PAdESSignatureParameters p = new PAdESSignatureParameters();
    p.setSignatureLevel(SignatureLevel.PAdES_BASELINE_B);
    p.setDigestAlgorithm(DigestAlgorithm.SHA256);
    p.setSigningCertificate(DSSUtils.loadCertificate(ecCert.getEncoded()));
    p.setCertificateChain(DSSUtils.loadCertificate(pki.root.getEncoded()));
    DSSDocument doc = new InMemoryDocument(Files.readAllBytes(in));
    ToBeSigned tbs = service.getDataToSign(doc, p);
    byte[] digest = sha256(tbs.getBytes());

    JsonNode list = ok("credentials/list", "erp-token", "{}");
    assertThat(list.path("credentialIDs").toString())
        .contains(ecSeal.id(), rsaSeal.id())
        .contains(sm2Seal.id())
        .doesNotContain(otherSeal.id()); // not granted to this caller
    JsonNode info =
        ok(
            "credentials/info",
            "erp-token",
            "{\"credentialID\":\""
                + ecSeal.id()
                + "\",\"certificates\":\"chain\",\"certInfo\":true}");
    assertThat(info.path("key").path("algo").toString()).contains(ECDSA_SHA256);
    assertThat(info.path("key").path("curve").asString()).isEqualTo("1.2.840.10045.3.1.7");
    assertThat(info.path("cert").path("certificates").size()).isEqualTo(2);
    assertThat(info.path("cert").path("certificates").get(0).asString())
        .isEqualTo(b64(ecCert.getEncoded()));
    assertThat(info.path("cert").path("status").asString()).isEqualTo("valid");

    String sad =
        ok("credentials/authorize", "erp-token", authorize(ecSeal.id(), 1, digest))
            .path("SAD")
            .asString();
    long before = log.size();
    JsonNode signed =
        ok("signatures/signHash", "erp-token", signHash(ecSeal.id(), sad, ECDSA_SHA256, digest));
    assertThat(log.size()).isEqualTo(before + 1); // the HASH_SIGNED event
    byte[] value = Base64.getDecoder().decode(signed.path("signatures").get(0).asString());

    DSSDocument sealed =
        service.signDocument(
            doc,
            p,
            new SignatureValue(
                eu.europa.esig.dss.enumerations.SignatureAlgorithm.ECDSA_SHA256, value));
    Path out = dir.resolve("remote-sealed.pdf");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    sealed.writeTo(bytes);
    Files.write(out, bytes.toByteArray());
    Path root = TestPki.writePem(dir.resolve("csc-root.pem"), pki.root);
    String report = Judges.pdfsig(out, Judges.nssTrusting(dir.resolve("csc-nss"), root));
    assertThat(report).contains("Signature is Valid.").contains("Certificate is Trusted.");

    // The SAD was for one signature: spent.
    refused(
        400, "signatures/signHash", "erp-token", signHash(ecSeal.id(), sad, ECDSA_SHA256, digest));

    // Two digests in one call (the bearer token as the authorization): still one event, which
    // names the key and both digests — no KEY_USED beside it.
    byte[] second = sha256("second".getBytes(StandardCharsets.UTF_8));
    long beforeTwo = log.size();
    JsonNode two =
        ok(
            "signatures/signHash",
            "erp-token",
            signHash(ecSeal.id(), null, ECDSA_SHA256, digest, second));
    assertThat(two.path("signatures").size()).isEqualTo(2);
    assertThat(log.size()).isEqualTo(beforeTwo + 1);
    try (java.sql.Connection c = log.connection()) {
      String event = log.eventsBetween(c, beforeTwo, beforeTwo + 1).get(0).event();
      assertThat(event)
          .contains("HASH_SIGNED")
          .contains("\"key\":\"" + ecSeal.identity().key())
          .contains(HexFormat.of().formatHex(digest) + "," + HexFormat.of().formatHex(second));
    }
  }

  @Test
  void rsaSignaturesOverADigestVerifyOverTheMessageForPkcs1AndPss() throws Exception {
    byte[] message = "印信 remote".getBytes(StandardCharsets.UTF_8);
    byte[] digest = sha256(message);
    java.security.PublicKey pk = keys.publicKey(rsaSeal.key());

    // sha256WithRSAEncryption, and rsaEncryption with the hash named apart
    for (String algo : List.of("1.2.840.113549.1.1.11", "1.2.840.113549.1.1.1")) {
      JsonNode r =
          ok("signatures/signHash", "erp-token", signHash(rsaSeal.id(), null, algo, digest));
      Signature v = Signature.getInstance("SHA256withRSA");
      v.initVerify(pk);
      v.update(message);
      assertThat(v.verify(Base64.getDecoder().decode(r.path("signatures").get(0).asString())))
          .isTrue();
    }

    AlgorithmIdentifier sha =
        new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256, DERNull.INSTANCE);
    String pss =
        b64(
            new RSASSAPSSparams(
                    sha,
                    new AlgorithmIdentifier(PKCSObjectIdentifiers.id_mgf1, sha),
                    new org.bouncycastle.asn1.ASN1Integer(32),
                    new org.bouncycastle.asn1.ASN1Integer(1))
                .getEncoded("DER"));
    String body =
        signHash(rsaSeal.id(), null, "1.2.840.113549.1.1.10", digest)
            .replace("}", ",\"signAlgoParams\":\"" + pss + "\"}");
    JsonNode r = ok("signatures/signHash", "erp-token", body);
    Signature v = Signature.getInstance("RSASSA-PSS");
    v.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
    v.initVerify(pk);
    v.update(message);
    assertThat(v.verify(Base64.getDecoder().decode(r.path("signatures").get(0).asString())))
        .isTrue();

    // PSS with a 20-byte salt is not what the key backends make: refused, not silently changed.
    String salt20 =
        b64(
            new RSASSAPSSparams(
                    sha,
                    new AlgorithmIdentifier(PKCSObjectIdentifiers.id_mgf1, sha),
                    new org.bouncycastle.asn1.ASN1Integer(20),
                    new org.bouncycastle.asn1.ASN1Integer(1))
                .getEncoded("DER"));
    refused(
        400,
        "signatures/signHash",
        "erp-token",
        signHash(rsaSeal.id(), null, "1.2.840.113549.1.1.10", digest)
            .replace("}", ",\"signAlgoParams\":\"" + salt20 + "\"}"));
  }

  /**
   * SM2 over the CSC API: the client computes e = SM3(Z ‖ M) for the seal's public key and the
   * default ID (written out from GB/T 32918.2 in the test kit), and the signature verifies over the
   * message with Bouncy Castle's SM3withSM2 and with OpenSSL. Mismatched algorithms are refused.
   */
  @Test
  void sm2SignaturesOverSm3OfZAndTheMessageVerifyWithBouncyCastleAndOpenSsl(@TempDir Path tmp)
      throws Exception {
    String sm2Sm3 = "1.2.156.10197.1.501";
    String sm3 = "1.2.156.10197.1.401";
    byte[] message = "印信 SM2 remote".getBytes(StandardCharsets.UTF_8);
    java.security.PublicKey pk = keys.publicKey(sm2Seal.key());
    byte[] e = io.yinxin.hsm.testing.Sm2Digest.e(pk, message);
    JsonNode info =
        ok("credentials/info", "erp-token", "{\"credentialID\":\"" + sm2Seal.id() + "\"}");
    assertThat(info.path("key").path("algo").toString()).isEqualTo("[\"" + sm2Sm3 + "\"]");

    long before = log.size();
    JsonNode r =
        ok(
            "signatures/signHash",
            "erp-token",
            signHash(sm2Seal.id(), null, sm2Sm3, e).replace(SHA256, sm3));
    assertThat(log.size()).isEqualTo(before + 1);
    byte[] sig = Base64.getDecoder().decode(r.path("signatures").get(0).asString());
    Signature v = Signature.getInstance("SM3withSM2", io.yinxin.hsm.BouncyCastle.PROVIDER);
    v.initVerify(pk);
    v.update(message);
    assertThat(v.verify(sig)).isTrue();
    var judged =
        io.yinxin.hsm.testing.OpenSsl.verify(
            tmp, io.yinxin.hsm.SignatureAlgorithm.SM3_WITH_SM2, pk, message, sig);
    assertThat(judged.exitCode()).as(judged.output()).isZero();

    // SM2 named with SHA-256, ECDSA asked of the SM2 key, SM2 asked of the P-256 key, a short e.
    refused(400, "signatures/signHash", "erp-token", signHash(sm2Seal.id(), null, sm2Sm3, e));
    refused(
        400,
        "signatures/signHash",
        "erp-token",
        signHash(sm2Seal.id(), null, ECDSA_SHA256, e).replace(SHA256, sm3));
    refused(
        400,
        "signatures/signHash",
        "erp-token",
        signHash(ecSeal.id(), null, sm2Sm3, e).replace(SHA256, sm3));
    refused(
        400,
        "signatures/signHash",
        "erp-token",
        signHash(sm2Seal.id(), null, sm2Sm3, java.util.Arrays.copyOf(e, 31)).replace(SHA256, sm3));
  }

  @Test
  void whatAnAttackerSendsIsRefusedAndSignsNothing() throws Exception {
    byte[] digest = sha256("x".getBytes(StandardCharsets.UTF_8));
    byte[] other = sha256("y".getBytes(StandardCharsets.UTF_8));
    String seal = ecSeal.id();

    // No token, a wrong token, a token without seal:use
    JsonNode e =
        refused(401, "signatures/signHash", null, signHash(seal, null, ECDSA_SHA256, digest));
    assertThat(e.path("error").asString()).isEqualTo("invalid_token");
    refused(401, "credentials/list", "wrong-token", "{}");
    refused(403, "credentials/list", "admin-token", "{}");
    // Another caller's seal, an unknown one: the same answer
    for (String id : List.of(otherSeal.id(), "seal-00000000000000000000", "../x")) {
      refused(400, "signatures/signHash", "erp-token", signHash(id, null, ECDSA_SHA256, digest));
      refused(400, "credentials/info", "erp-token", "{\"credentialID\":\"" + id + "\"}");
    }
    // A SAD bound to other hashes, to another seal, or made up
    String sad =
        ok("credentials/authorize", "erp-token", authorize(seal, 1, other)).path("SAD").asString();
    refused(400, "signatures/signHash", "erp-token", signHash(seal, sad, ECDSA_SHA256, digest));
    refused(
        400,
        "signatures/signHash",
        "erp-token",
        signHash(rsaSeal.id(), sad, "1.2.840.113549.1.1.11", other));
    refused(400, "signatures/signHash", "other-token", signHash(seal, sad, ECDSA_SHA256, other));
    refused(400, "signatures/signHash", "erp-token", signHash(seal, "AAAA", ECDSA_SHA256, digest));
    // ... and after those attempts it still holds its one use
    ok("signatures/signHash", "erp-token", signHash(seal, sad, ECDSA_SHA256, other));
    // Two hashes against a SAD for one
    String one =
        ok("credentials/authorize", "erp-token", authorize(seal, 1)).path("SAD").asString();
    refused(
        400, "signatures/signHash", "erp-token", signHash(seal, one, ECDSA_SHA256, digest, other));
    // Digests of the wrong length, non-canonical base64, an algorithm the key cannot make
    refused(
        400, "signatures/signHash", "erp-token", signHash(seal, null, ECDSA_SHA256, new byte[31]));
    String canonical = b64(digest);
    String sloppy =
        canonical.substring(0, canonical.length() - 2)
            + (char) (canonical.charAt(canonical.length() - 2) + 1)
            + "=";
    refused(
        400,
        "signatures/signHash",
        "erp-token",
        signHash(seal, null, ECDSA_SHA256, digest).replace(canonical, sloppy));
    refused(
        400,
        "signatures/signHash",
        "erp-token",
        signHash(seal, null, "1.2.840.113549.1.1.11", digest));
    refused(
        400,
        "signatures/signHash",
        "erp-token",
        signHash(seal, null, "1.2.840.10045.4.3.4", digest));
    refused(
        400,
        "signatures/signHash",
        "erp-token",
        signHash(seal, null, ECDSA_SHA256, digest).replace(SHA256, "2.16.840.1.101.3.4.2.2"));
    // Duplicate keys (which credential?), not JSON, asynchronous mode, too many hashes
    refused(
        400,
        "signatures/signHash",
        "erp-token",
        signHash(seal, null, ECDSA_SHA256, digest)
            .replace("{", "{\"credentialID\":\"" + otherSeal.id() + "\","));
    refused(400, "signatures/signHash", "erp-token", "not json");
    refused(400, "signatures/signHash", "erp-token", "[1,2]");
    refused(
        400,
        "signatures/signHash",
        "erp-token",
        signHash(seal, null, ECDSA_SHA256, digest).replace("}", ",\"operationMode\":\"A\"}"));
    byte[][] many = new byte[101][];
    java.util.Arrays.fill(many, digest);
    refused(400, "signatures/signHash", "erp-token", signHash(seal, null, ECDSA_SHA256, many));
    refused(400, "credentials/authorize", "erp-token", authorize(seal, 0));
    refused(400, "credentials/authorize", "erp-token", authorize(seal, 2, digest));
    // A body over the limit is refused without being read further
    refused(413, "signatures/signHash", "erp-token", "{\"x\":\"" + "A".repeat(70_000) + "\"}");
    // A disabled seal
    registry.setActive("admin", rsaSeal.id(), false);
    try {
      refused(
          400,
          "signatures/signHash",
          "erp-token",
          signHash(rsaSeal.id(), null, "1.2.840.113549.1.1.11", digest));
      assertThat(
              ok("credentials/info", "erp-token", "{\"credentialID\":\"" + rsaSeal.id() + "\"}")
                  .path("key")
                  .path("status")
                  .asString())
          .isEqualTo("disabled");
    } finally {
      registry.setActive("admin", rsaSeal.id(), true);
    }
  }

  @Test
  void aSadWithOneUseIsSpentOnceWhenEightRequestsRaceForIt() throws Exception {
    byte[] digest = sha256("race".getBytes(StandardCharsets.UTF_8));
    String sad =
        ok("credentials/authorize", "erp-token", authorize(ecSeal.id(), 1, digest))
            .path("SAD")
            .asString();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        Callable<Integer> c =
            () ->
                call(
                        "signatures/signHash",
                        "erp-token",
                        signHash(ecSeal.id(), sad, ECDSA_SHA256, digest))
                    .getStatus();
        results.add(pool.submit(c));
      }
      int okCount = 0;
      for (Future<Integer> f : results) {
        int s = f.get();
        assertThat(s).isIn(200, 400);
        okCount += s == 200 ? 1 : 0;
      }
      assertThat(okCount).isEqualTo(1);
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void infoNeedsNoTokenAndNamesTheMethods() throws Exception {
    JsonNode info = ok("info", null, "{\"lang\":\"en-US\"}");
    assertThat(info.path("specs").asString()).startsWith("2.");
    assertThat(info.path("methods").toString())
        .contains(
            "credentials/list", "credentials/info", "credentials/authorize", "signatures/signHash");
    assertThat(ok("info", null, "").path("region").asString()).isEqualTo("CN");
  }
}
