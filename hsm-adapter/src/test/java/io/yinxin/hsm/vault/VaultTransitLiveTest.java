package io.yinxin.hsm.vault;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.Secret;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.testing.JcaVerify;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * Against a real Vault or OpenBao (for example {@code vault server -dev} with {@code vault secrets
 * enable transit}); runs only when VAULT_ADDR and VAULT_TOKEN are set, and is reported skipped
 * otherwise.
 */
@EnabledIfEnvironmentVariable(named = "VAULT_ADDR", matches = ".+")
@EnabledIfEnvironmentVariable(named = "VAULT_TOKEN", matches = ".+")
class VaultTransitLiveTest {

  @Test
  void everyAlgorithmSignsAndVerifiesAgainstARealVault() {
    String mount = System.getenv().getOrDefault("VAULT_TRANSIT_MOUNT", "transit");
    try (VaultTransitKeyBackend b =
        VaultTransitKeyBackend.open(
            System.getenv("VAULT_ADDR"), Secret.fromEnv("VAULT_TOKEN"), mount)) {
      String run = UUID.randomUUID().toString().substring(0, 8);
      for (SignatureAlgorithm alg : SignatureAlgorithm.values()) {
        if (alg == SignatureAlgorithm.SM3_WITH_SM2) {
          continue;
        }
        KeySpec spec = alg.keySpecs().iterator().next();
        KeyInfo k =
            b.generate(
                spec, "yinxin-live-" + alg.name().toLowerCase(java.util.Locale.ROOT) + "-" + run);
        byte[] data = ("live " + alg).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] sig = b.sign(k.ref(), alg, data);
        assertThat(JcaVerify.verify(alg, k.publicKey(), data, sig)).as(alg.name()).isTrue();
      }
    }
  }
}
