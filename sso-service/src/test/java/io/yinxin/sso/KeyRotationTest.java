package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import io.yinxin.sso.client.DemoClient;
import io.yinxin.sso.http.SsoAdmins;
import io.yinxin.sso.token.KeyRotation;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Key rotation with overlap: after a rotation new tokens carry the new key's ID, the JWK set holds
 * both keys so a token signed before still verifies against it, and the retired key leaves the set
 * only once its publication has run out; the rotation is an administrator's act and a
 * CONFIG_CHANGED event.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class KeyRotationTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-rotation");
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;
  @Autowired DemoClient demo;
  @Autowired KeyRotation rotation;
  @Autowired DataSource dataSource;
  @Autowired io.yinxin.audit.store.LogStore auditStore;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  private SignedJWT token() throws Exception {
    HttpResponse<String> r =
        new Browser(base())
            .post(
                "/oauth2/token",
                Map.of("grant_type", "client_credentials", "scope", "openid"),
                Browser.basic(demo.clientId(), demo.secret().orElseThrow()));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return SignedJWT.parse(JSON.readTree(r.body()).path("access_token").asString());
  }

  private JWKSet jwks() throws Exception {
    return JWKSet.parse(new Browser(base()).get("/oauth2/jwks").body());
  }

  private static boolean verifies(SignedJWT jwt, JWKSet set) throws Exception {
    var key = set.getKeyByKeyId(jwt.getHeader().getKeyID());
    return key != null && jwt.verify(new ECDSAVerifier((ECKey) key));
  }

  @Test
  void aRotatedKeyStaysPublishedUntilItsTokensExpiredAndNewTokensUseTheNewKey() throws Exception {
    SignedJWT before = token();
    String oldKid = before.getHeader().getKeyID();
    assertThat(verifies(before, jwks())).isTrue();

    assertThat(Browser.json(base(), "POST", "/sso/v1/keys/rotate", null, null).statusCode())
        .isEqualTo(401);
    HttpResponse<String> r =
        Browser.json(base(), "POST", "/sso/v1/keys/rotate", admins.devToken().orElseThrow(), null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode rotated = JSON.readTree(r.body());
    assertThat(rotated.path("active")).hasSize(2);
    assertThat(rotated.path("retired_published_for_seconds").asLong())
        .isGreaterThan(24 * 3600); // longer than any access token lives

    SignedJWT after = token();
    assertThat(after.getHeader().getKeyID()).isNotEqualTo(oldKid);
    JWKSet both = jwks();
    assertThat(both.getKeyByKeyId(oldKid)).isNotNull();
    assertThat(verifies(before, both)).isTrue();
    assertThat(verifies(after, both)).isTrue();
    assertThat(both.getKeys()).hasSize(4); // ES256 and RS256, old and new

    JsonNode listed =
        JSON.readTree(
            Browser.json(base(), "GET", "/sso/v1/keys", admins.devToken().orElseThrow(), null)
                .body());
    assertThat(listed.path("keys").findValuesAsString("state")).containsOnly("active", "retired");

    // Once the retired keys' publication has run out, they leave the set.
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.executeUpdate(
          "UPDATE sso.signing_keys SET publish_until = CURRENT_TIMESTAMP - INTERVAL '1' SECOND"
              + " WHERE state = 'retired'");
    }
    rotation.refresh();
    JWKSet later = jwks();
    assertThat(later.getKeyByKeyId(oldKid)).isNull();
    assertThat(verifies(after, later)).isTrue();
    assertThat(AuditEvents.count(dataSource, auditStore, "CONFIG_CHANGED", "signing_keys_rotated"))
        .isEqualTo(1);

    // Two rotations within one second each make keys of their own (labels are by the second; the
    // second rotation used to be refused: "key … already exists").
    List<String> first = rotation.rotate("test");
    List<String> second = rotation.rotate("test");
    assertThat(first).hasSize(2).doesNotContainAnyElementsOf(second);
    assertThat(second).hasSize(2);
    assertThat(
            rotation.list().stream()
                .filter(k -> k.state().equals("active"))
                .map(KeyRotation.Listed::keyId))
        .containsExactlyInAnyOrderElementsOf(second);
  }
}
