package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.yinxin.sso.http.SsoAdmins;
import java.math.BigInteger;
import java.net.ServerSocket;
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
 * Mutual-TLS client authentication with a self-signed certificate (RFC 8705 §2.2) and
 * certificate-bound access tokens (§3), judged by curl presenting the client's certificate at the
 * token endpoint on the mutual-TLS port: the registered key's certificate gets a token whose {@code
 * cnf} holds the certificate's SHA-256 thumbprint; another certificate, or none, is invalid_client.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class MtlsClientTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final int TLS_PORT = freePort();
  static KeyPair key;
  static X509Certificate cert;
  static HttpServer jwks;
  static Path dir;

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-mtls");
    r.add("yinxin.sso.certificate-login-port", () -> TLS_PORT);
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
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
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;

  /** curl at the mutual-TLS token endpoint; the body, and the status code on the last line. */
  private static String[] curlToken(X509Certificate c, KeyPair k) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sSk", "--max-time", "20"));
    if (c != null) {
      cmd.addAll(TestCredentials.curlArguments(dir, c, k));
    }
    cmd.addAll(
        List.of(
            "-w",
            "\n%{http_code}",
            "-d",
            "grant_type=client_credentials",
            "-d",
            "client_id=agency-c",
            "-d",
            "scope=ca:read",
            "https://127.0.0.1:" + TLS_PORT + "/oauth2/token"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    int nl = out.lastIndexOf('\n');
    return new String[] {out.substring(0, Math.max(nl, 0)), out.substring(nl + 1).strip()};
  }

  @Test
  void theRegisteredCertificateGetsATokenBoundToItAndOthersAreRefused() throws Exception {
    var reg =
        Browser.json(
            "http://127.0.0.1:" + port,
            "POST",
            "/sso/v1/clients",
            admins.devToken().orElseThrow(),
            JSON.writeValueAsString(
                Map.of(
                    "client_id", "agency-c",
                    "client_name", "Agency C",
                    "grant_types", List.of("client_credentials"),
                    "scope", "ca:read",
                    "token_endpoint_auth_method", "self_signed_tls_client_auth",
                    "jwks_uri", "http://127.0.0.1:" + jwks.getAddress().getPort() + "/jwks",
                    "tls_client_certificate_bound_access_tokens", true)));
    assertThat(reg.statusCode()).as(reg.body()).isEqualTo(201);
    assertThat(reg.body()).doesNotContain("client_secret\"");

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
}
