package io.yinxin.hsm.vault;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.jopenlibs.vault.json.JsonObject;
import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.Secret;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.testing.FakeVaultTransitServer;
import io.yinxin.hsm.testing.FreePorts;
import io.yinxin.hsm.testing.JcaVerify;
import io.yinxin.hsm.testing.KeyServiceContract;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The contract suite on the Vault Transit backend, against {@link FakeVaultTransitServer} (no Vault
 * server can run here), plus the request shapes Vault's API documentation requires.
 */
class VaultTransitContractTest extends KeyServiceContract {
  private static final String TOKEN = "hvs." + UUID.randomUUID();
  private static FakeVaultTransitServer fake;
  private static VaultTransitKeyBackend backend;
  private static KeyServices service;

  @BeforeAll
  static void start() throws Exception {
    fake = new FakeVaultTransitServer(TOKEN, "transit");
    backend =
        VaultTransitKeyBackend.open(
            fake.address(), Secret.of(TOKEN.toCharArray(), "test"), "transit");
    service = KeyServices.of(backend);
  }

  @AfterAll
  static void stop() {
    service.close();
    fake.close();
  }

  @Override
  protected KeyService service() {
    return service;
  }

  /**
   * Each signature is an HTTP round trip to the fake server: a thousand per thread took 38 s of
   * this suite's 47; a quarter still keeps eight threads signing at once throughout.
   */
  @Override
  protected int signaturesPerThread() {
    return 250;
  }

  @Override
  protected io.yinxin.hsm.KeyBackend backend() {
    return backend;
  }

  @Override
  protected KeyRef.Scheme scheme() {
    return KeyRef.Scheme.VAULT_TRANSIT;
  }

  @Override
  protected Set<io.yinxin.hsm.DataKeySpec> supportedDataKeySpecs() {
    return Set.of(io.yinxin.hsm.DataKeySpec.AES_256_GCM);
  }

  @Override
  protected Set<KeySpec> supportedSpecs() {
    return EnumSet.of(KeySpec.EC_P256, KeySpec.EC_P384, KeySpec.RSA_3072, KeySpec.ED25519);
  }

  @Override
  protected KeyRef missingKey() {
    return KeyRef.vault("no-such-key");
  }

  @Override
  protected String secretText() {
    return TOKEN;
  }

  @Override
  protected KeyException openWithWrongSecret() {
    try {
      VaultTransitKeyBackend.open(
          fake.address(), Secret.of((TOKEN + "x").toCharArray(), "test"), "transit");
      throw new AssertionError("a wrong token was accepted");
    } catch (KeyException e) {
      return e;
    }
  }

  private List<JsonObject> signBodies() {
    return fake.requests().stream()
        .filter(r -> r.path().startsWith("/v1/transit/sign/"))
        .map(FakeVaultTransitServer.Recorded::body)
        .toList();
  }

  @Test
  void signRequestsUseTheV1PathsAndSpellOutEveryAlgorithmParameter() {
    KeyInfo rsa = service.generate(scheme(), KeySpec.RSA_3072, uniqueLabel("rsa-shape"));
    KeyInfo ec = service.generate(scheme(), KeySpec.EC_P256, uniqueLabel("ec-shape"));
    fake.clearRequests();
    service.sign(rsa.ref(), SignatureAlgorithm.RSA_PSS_SHA256, new byte[] {1}, "t");
    service.sign(rsa.ref(), SignatureAlgorithm.RSA_PKCS1_SHA256, new byte[] {1}, "t");
    service.sign(ec.ref(), SignatureAlgorithm.ECDSA_SHA256, new byte[] {1}, "t");

    assertThat(fake.requests()).allSatisfy(r -> assertThat(r.path()).doesNotContain("/data/"));
    List<JsonObject> bodies = signBodies();
    assertThat(bodies).hasSize(3);
    assertThat(bodies.get(0).getString("signature_algorithm", null)).isEqualTo("pss");
    assertThat(bodies.get(0).getString("salt_length", null)).isEqualTo("hash");
    assertThat(bodies.get(0).getString("hash_algorithm", null)).isEqualTo("sha2-256");
    assertThat(bodies.get(1).getString("signature_algorithm", null)).isEqualTo("pkcs1v15");
    assertThat(bodies.get(2).getString("marshaling_algorithm", null)).isEqualTo("asn1");
    assertThat(bodies.get(2).getString("hash_algorithm", null)).isEqualTo("sha2-256");
  }

  @Test
  void keysAreCreatedNonExportable() {
    fake.clearRequests();
    service.generate(scheme(), KeySpec.EC_P384, uniqueLabel("nonexport"));
    JsonObject create =
        fake.requests().stream()
            .filter(r -> r.method().equals("POST") && r.path().startsWith("/v1/transit/keys/"))
            .findFirst()
            .orElseThrow()
            .body();
    assertThat(create.getBoolean("exportable", true)).isFalse();
    assertThat(create.getString("type", null)).isEqualTo("ecdsa-p384");
  }

  @Test
  void rotationMakesNewSignaturesUseTheNewVersionAndOldVersionsStayReadable() {
    KeyInfo key = service.generate(scheme(), KeySpec.ED25519, uniqueLabel("rotating"));
    assertThat(backend.rotate(key.ref())).isEqualTo(2);

    byte[] data = randomData(32);
    byte[] sig = service.sign(key.ref(), SignatureAlgorithm.ED25519, data, "t");
    var v1 = service.publicKey(key.ref().withVersion(1));
    var v2 = service.publicKey(key.ref().withVersion(2));
    assertThat(v1).isNotEqualTo(v2);
    assertThat(JcaVerify.verify(SignatureAlgorithm.ED25519, v2, data, sig)).isTrue();

    byte[] old = service.sign(key.ref().withVersion(1), SignatureAlgorithm.ED25519, data, "t");
    assertThat(JcaVerify.verify(SignatureAlgorithm.ED25519, v1, data, old)).isTrue();
    assertThat(KeyRef.parse(key.ref().withVersion(1).toString()).pinnedVersion()).contains(1);
  }

  @Test
  void sm2IsUnsupportedOnVault() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> service.generate(scheme(), KeySpec.SM2, uniqueLabel("sm2")))
        .isInstanceOfSatisfying(
            KeyException.class,
            e -> assertThat(e.code()).isEqualTo(KeyException.Code.UNSUPPORTED_ALGORITHM));
  }

  @Test
  void unreachableVaultIsBackendUnavailable() throws Exception {
    int port = FreePorts.next();
    String address = "http://127.0.0.1:" + port;
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                VaultTransitKeyBackend.open(
                    address, Secret.of(TOKEN.toCharArray(), "t"), "transit"))
        .isInstanceOfSatisfying(
            KeyException.class,
            e -> {
              assertThat(e.code()).isEqualTo(KeyException.Code.BACKEND_UNAVAILABLE);
              assertThat(e.getMessage()).doesNotContain(TOKEN);
            });
  }
}
