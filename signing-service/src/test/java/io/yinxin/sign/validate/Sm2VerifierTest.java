package io.yinxin.sign.validate;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.sign.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SM2 seals, which DSS cannot judge, judged by Yinxin's own SM2 checks. */
class Sm2VerifierTest {
  @TempDir Path dir;

  @Test
  void anSm2SealPassesAgainstItsAnchorFailsWhenTamperedAndIsIndeterminateWithoutTheAnchor()
      throws Exception {
    KeyServices keys = KeyServices.of(SoftKeyBackend.open(dir.resolve("keys")));
    KeyInfo sm2 = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "sm2");
    X509CertificateHolder cert = TestPki.selfSigned(keys, sm2, "C=CN,O=某某局,CN=某某局");
    Path plain = dir.resolve("plain.pdf");
    io.yinxin.sign.testing.TestPdfs.contract(plain);
    Path sealed = dir.resolve("sm2.pdf");
    io.yinxin.sign.testing.TestSealer.sealSm2(keys, sm2, cert, plain, sealed);

    List<Map<String, Object>> ok = new Sm2Verifier(() -> List.of(cert)).verify(sealed);
    assertThat(ok).hasSize(1);
    assertThat(ok.get(0)).containsEntry("indication", "TOTAL_PASSED");

    assertThat(new Sm2Verifier(List::of).verify(sealed).get(0))
        .containsEntry("indication", "INDETERMINATE")
        .containsEntry("subIndication", "NO_CERTIFICATE_CHAIN_FOUND");

    byte[] bytes = Files.readAllBytes(sealed);
    int comment = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf('\n') + 2;
    bytes[comment] ^= 1;
    Path tampered = Files.write(dir.resolve("tampered.pdf"), bytes);
    assertThat(new Sm2Verifier(() -> List.of(cert)).verify(tampered).get(0))
        .containsEntry("indication", "TOTAL_FAILED")
        .containsEntry("subIndication", "HASH_FAILURE");

    // An ECDSA seal is not an SM2 signature: nothing to report.
    assertThat(new Sm2Verifier(() -> List.of(cert)).verify(plain)).isEmpty();
  }
}
