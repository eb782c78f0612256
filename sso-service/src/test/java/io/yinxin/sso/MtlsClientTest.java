package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.yinxin.hsm.testing.FreePorts;
import io.yinxin.sso.http.SsoAdmins;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Mutual-TLS client authentication (RFC 8705) and certificate-bound access tokens (§3), judged by
 * curl presenting the client's certificate at the token endpoint on the mutual-TLS port: with a
 * self-signed certificate (§2.2) the registered key's certificate gets a token whose {@code cnf}
 * holds the certificate's SHA-256 thumbprint, another certificate, or none, is invalid_client; with
 * a CA-issued certificate (PKI, §2.1) the chain must reach the configured client CA, be good at its
 * OCSP responder and carry the registered name — a forged, self-made, revoked, expired or
 * differently named certificate is invalid_client.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class MtlsClientTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final int TLS_PORT = FreePorts.next();
  static KeyPair key;
  static X509Certificate cert;
  static HttpServer jwks;
  static Path dir;
  static final TestCa CLIENT_CA = new TestCa("CN=Test Agency CA,O=Yinxin tests,C=CN");

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    OpenIdProviderTest.h2Node(r, "sso-mtls");
    r.add("yinxin.sso.certificate-login-port", () -> TLS_PORT);
    Path pem = Files.createTempFile("yinxin-client-ca-", ".pem");
    Files.writeString(pem, TestCredentials.pem(CLIENT_CA.certificate));
    r.add("yinxin.sso.client-ca", pem::toString);
  }

  private static KeyPair ec() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static X509Certificate selfSigned(KeyPair k, String cn) throws Exception {
    Instant now = Instant.now();
    X500Name name = new X500Name("CN=" + cn);
    return new JcaX509CertificateConverter()
        .getCertificate(
            new JcaX509v3CertificateBuilder(
                    name,
                    BigInteger.valueOf(now.toEpochMilli()),
                    Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(30))),
                    name,
                    k.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(k.getPrivate())));
  }

  @BeforeAll
  static void clientCertificate() throws Exception {
    dir = Files.createTempDirectory("yinxin-mtls-");
    key = ec();
    cert = selfSigned(key, "agency-c");
    // The client's JWK set holds its certificate (x5c), as RFC 8705 §2.2 asks.
    jwks = TestCredentials.jwksServer(new JWKSet(ECKey.parse(cert).toPublicJWK()).toString(true));
  }

  @AfterAll
  static void stop() {
    jwks.stop(0);
    CLIENT_CA.stop();
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;

  /** curl at the mutual-TLS token endpoint; the body, and the status code on the last line. */
  private static String[] curlToken(X509Certificate c, KeyPair k) throws Exception {
    return curlToken(c, k, "agency-c");
  }

  private static String[] curlToken(X509Certificate c, KeyPair k, String clientId)
      throws Exception {
    return curl(
        c,
        k,
        "-d",
        "grant_type=client_credentials",
        "-d",
        "client_id=" + clientId,
        "-d",
        "scope=ca:read",
        "https://127.0.0.1:" + TLS_PORT + "/oauth2/token");
  }

  /** curl on the mutual-TLS port with this certificate: the body, and the status code. */
  private static String[] curl(X509Certificate c, KeyPair k, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sSk", "--max-time", "20"));
    if (c != null) {
      cmd.addAll(TestCredentials.curlArguments(dir, c, k));
    }
    cmd.addAll(List.of("-w", "\n%{http_code}"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    int nl = out.lastIndexOf('\n');
    return new String[] {out.substring(0, Math.max(nl, 0)), out.substring(nl + 1).strip()};
  }

  @Test
  void theRegisteredCertificateGetsATokenBoundToItAndOthersAreRefused() throws Exception {
    String reg =
        register(
            Map.of(
                "client_id", "agency-c",
                "client_name", "Agency C",
                "grant_types", List.of("client_credentials"),
                "scope", "ca:read",
                "token_endpoint_auth_method", "self_signed_tls_client_auth",
                "jwks_uri", "http://127.0.0.1:" + jwks.getAddress().getPort() + "/jwks",
                "tls_client_certificate_bound_access_tokens", true));
    assertThat(reg).startsWith("201 ").doesNotContain("client_secret\"");

    String[] ok = curlToken(cert, key);
    assertThat(ok[1]).as(ok[0]).isEqualTo("200");
    JsonNode t = JSON.readTree(ok[0]);
    var cnf =
        SignedJWT.parse(t.path("access_token").asString())
            .getJWTClaimsSet()
            .getJSONObjectClaim("cnf");
    assertThat(cnf)
        .containsEntry(
            "x5t#S256",
            Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded())));

    KeyPair otherKey = ec();
    String[] other = curlToken(selfSigned(otherKey, "agency-c"), otherKey);
    assertThat(other[1]).as(other[0]).isEqualTo("401");
    assertThat(other[0]).contains("invalid_client");
    String[] none = curlToken(null, null);
    assertThat(none[1]).isEqualTo("401");

    // Discovery says where to present the certificate.
    assertThat(
            new Browser("http://127.0.0.1:" + port).get("/.well-known/openid-configuration").body())
        .contains("mtls_endpoint_aliases", "self_signed_tls_client_auth");
  }

  private String register(Map<String, Object> metadata) throws Exception {
    var reg =
        Browser.json(
            "http://127.0.0.1:" + port,
            "POST",
            "/sso/v1/clients",
            admins.devToken().orElseThrow(),
            JSON.writeValueAsString(metadata));
    return reg.statusCode() + " " + reg.body();
  }

  private static String thumbprint(X509Certificate c) throws Exception {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
  }

  @Test
  void aCaIssuedCertificateWithTheRegisteredNameGetsATokenAndNoForgeryDoes() throws Exception {
    // The DN registered in another spelling (case, spaces): it is compared as a name, not as text.
    String registered =
        register(
            Map.of(
                "client_id", "agency-pki",
                "client_name", "Agency PKI",
                "grant_types", List.of("client_credentials"),
                "scope", "ca:read",
                "token_endpoint_auth_method", "tls_client_auth",
                "tls_client_auth_subject_dn", "cn=Agency PKI, o=Yinxin tests, c=CN",
                "tls_client_certificate_bound_access_tokens", true));
    assertThat(registered).startsWith("201 ").doesNotContain("client_secret\"");
    assertThat(registered)
        .contains("\"tls_client_auth_subject_dn\":\"CN=Agency PKI,O=Yinxin tests,C=CN\"");

    Instant now = Instant.now();
    Instant from = now.minus(Duration.ofHours(1));
    Instant to = now.plus(Duration.ofDays(30));
    String dn = "C=CN,O=Yinxin tests,CN=Agency PKI";
    KeyPair k = ec();
    X509Certificate good = CLIENT_CA.issue(k, dn, from, to);
    // Presented without its chain (curl's default): the chain is completed from the client CA.
    String[] ok = curlToken(good, k, "agency-pki");
    assertThat(ok[1]).as(ok[0]).isEqualTo("200");
    var cnf =
        SignedJWT.parse(JSON.readTree(ok[0]).path("access_token").asString())
            .getJWTClaimsSet()
            .getJSONObjectClaim("cnf");
    assertThat(cnf).containsEntry("x5t#S256", thumbprint(good));

    // The same subject DN on a certificate the client made itself: self-issued, so judged as
    // self_signed_tls_client_auth, which this client did not register.
    KeyPair selfKey = ec();
    String[] self = curlToken(selfSigned(selfKey, "Agency PKI"), selfKey, "agency-pki");
    assertThat(self[1]).as(self[0]).isEqualTo("401");
    assertThat(self[0]).contains("invalid_client");
    // Naming the client CA as issuer but signed by another key: the chain does not validate.
    KeyPair forger = ec();
    String[] forged = curlToken(CLIENT_CA.issue(k, dn, from, to, forger), k, "agency-pki");
    assertThat(forged[1]).as(forged[0]).isEqualTo("401");
    // From the client CA but for another name.
    String[] other =
        curlToken(CLIENT_CA.issue(k, "C=CN,O=Yinxin tests,CN=Agency Q", from, to), k, "agency-pki");
    assertThat(other[1]).as(other[0]).isEqualTo("401");
    // Expired, and revoked (its OCSP responder says so).
    String[] expired =
        curlToken(
            CLIENT_CA.issue(k, dn, now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1))),
            k,
            "agency-pki");
    assertThat(expired[1]).as(expired[0]).isEqualTo("401");
    X509Certificate revoked = CLIENT_CA.issue(k, dn, from, to);
    CLIENT_CA.revoked.add(revoked.getSerialNumber());
    String[] refused = curlToken(revoked, k, "agency-pki");
    assertThat(refused[1]).as(refused[0]).isEqualTo("401");
    assertThat(refused[0]).contains("invalid_client");
    // The good certificate still works: the refusals changed nothing.
    assertThat(curlToken(good, k, "agency-pki")[1]).isEqualTo("200");

    // A DNS name in the certificate's subject alternative names, registered in upper case.
    assertThat(
            register(
                Map.of(
                    "client_id", "agency-dns",
                    "client_name", "Agency DNS",
                    "grant_types", List.of("client_credentials"),
                    "scope", "ca:read",
                    "token_endpoint_auth_method", "tls_client_auth",
                    "tls_client_auth_san_dns", "Agency.Example.GOV.cn")))
        .startsWith("201 ");
    X509Certificate named =
        CLIENT_CA.issue(
            k,
            "C=CN,O=Yinxin tests,CN=anything",
            from,
            to,
            new org.bouncycastle.asn1.x509.GeneralName(
                org.bouncycastle.asn1.x509.GeneralName.dNSName, "agency.example.gov.cn"));
    String[] dns = curlToken(named, k, "agency-dns");
    assertThat(dns[1]).as(dns[0]).isEqualTo("200");
    assertThat(curlToken(good, k, "agency-dns")[1]).isEqualTo("401");

    // Registration: exactly one name, valid of its kind; never looked up in DNS.
    Map<String, Object> base =
        Map.of(
            "client_name", "Bad",
            "grant_types", List.of("client_credentials"),
            "token_endpoint_auth_method", "tls_client_auth");
    for (Map<String, Object> extra :
        List.<Map<String, Object>>of(
            Map.of(),
            Map.of("tls_client_auth_subject_dn", "CN=A", "tls_client_auth_san_dns", "a.example"),
            Map.of("tls_client_auth_subject_dn", "not a DN"),
            Map.of("tls_client_auth_san_ip", "localhost"),
            Map.of("tls_client_auth_san_dns", "-bad-.example"))) {
      Map<String, Object> m = new java.util.HashMap<>(base);
      m.putAll(extra);
      assertThat(register(m)).as(extra.toString()).startsWith("400 ");
    }
    assertThat(
            register(
                Map.of(
                    "client_name", "Secret with a DN",
                    "grant_types", List.of("client_credentials"),
                    "tls_client_auth_subject_dn", "CN=A")))
        .startsWith("400 ");
  }

  @Autowired io.yinxin.sso.account.DemoUser user;

  /**
   * A person's access token bound to a PKI client's certificate works at userinfo on the mutual-TLS
   * port with that certificate (RFC 8705 §3), and not without it, not with another certificate of
   * the same client CA, and not as a plain bearer token on the ordinary port.
   */
  @Test
  void aCertificateBoundTokenWorksAtUserinfoOnlyWithItsCertificate() throws Exception {
    String redirect = "http://127.0.0.1:8000/callback";
    assertThat(
            register(
                Map.of(
                    "client_id", "agency-web",
                    "client_name", "Agency Web",
                    "redirect_uris", List.of(redirect),
                    "scope", "openid profile",
                    "require_consent", false,
                    "token_endpoint_auth_method", "tls_client_auth",
                    "tls_client_auth_subject_dn", "CN=Agency Web,O=Yinxin tests,C=CN",
                    "tls_client_certificate_bound_access_tokens", true)))
        .startsWith("201 ");
    Instant now = Instant.now();
    KeyPair k = ec();
    X509Certificate cert =
        CLIENT_CA.issue(
            k, "C=CN,O=Yinxin tests,CN=Agency Web", now.minusSeconds(3600), now.plusSeconds(86400));
    Browser b = new Browser("http://127.0.0.1:" + port);
    b.signIn(user.username(), user.password().orElseThrow());
    String verifier = Browser.verifier();
    String code = b.authorizationCode("agency-web", "openid", redirect, verifier);
    assertThat(code).isNotBlank();
    String[] tokens =
        curl(
            cert,
            k,
            "-d",
            "grant_type=authorization_code",
            "-d",
            "client_id=agency-web",
            "-d",
            "code=" + code,
            "--data-urlencode",
            "redirect_uri=" + redirect,
            "-d",
            "code_verifier=" + verifier,
            "https://127.0.0.1:" + TLS_PORT + "/oauth2/token");
    assertThat(tokens[1]).as(tokens[0]).isEqualTo("200");
    String at = JSON.readTree(tokens[0]).path("access_token").asString();
    assertThat(SignedJWT.parse(at).getJWTClaimsSet().getJSONObjectClaim("cnf"))
        .containsEntry("x5t#S256", thumbprint(cert));

    String userinfo = "https://127.0.0.1:" + TLS_PORT + "/userinfo";
    String[] ok = curl(cert, k, "-H", "Authorization: Bearer " + at, userinfo);
    assertThat(ok[1]).as(ok[0]).isEqualTo("200");
    assertThat(JSON.readTree(ok[0]).path("sub").asString()).isEqualTo(user.username());
    KeyPair k2 = ec();
    X509Certificate another =
        CLIENT_CA.issue(
            k2,
            "C=CN,O=Yinxin tests,CN=Agency Web",
            now.minusSeconds(3600),
            now.plusSeconds(86400));
    // Another certificate of the same client, same name, same CA: another thumbprint.
    assertThat(curl(another, k2, "-H", "Authorization: Bearer " + at, userinfo)[1])
        .isEqualTo("401");
    assertThat(curl(null, null, "-H", "Authorization: Bearer " + at, userinfo)[1]).isEqualTo("401");
    var plain =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + "/userinfo"))
                    .header("Authorization", "Bearer " + at)
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(plain.statusCode()).isEqualTo(401);
    // Still good with its certificate: the refusals changed nothing.
    assertThat(curl(cert, k, "-H", "Authorization: Bearer " + at, userinfo)[1]).isEqualTo("200");
    // Discovery names the mutual-TLS userinfo endpoint.
    assertThat(
            new Browser("http://127.0.0.1:" + port).get("/.well-known/openid-configuration").body())
        .contains("\"userinfo_endpoint\":\"" + userinfo + "\"");
  }
}
