package io.yinxin.hsm.soft;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.testing.JcaVerify;
import io.yinxin.hsm.testing.KeyServiceContract;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The contract suite on the PKCS#12 development backend. */
class SoftContractTest extends KeyServiceContract {
  private static Path dir;
  private static KeyServices service;

  @BeforeAll
  static void open() throws Exception {
    dir = Files.createTempDirectory("yinxin-soft-");
    service = KeyServices.of(SoftKeyBackend.open(dir.resolve("keys")));
  }

  @AfterAll
  static void close() {
    service.close();
  }

  @Override
  protected KeyService service() {
    return service;
  }

  @Override
  protected KeyRef.Scheme scheme() {
    return KeyRef.Scheme.SOFT;
  }

  @Override
  protected Set<KeySpec> supportedSpecs() {
    return EnumSet.allOf(KeySpec.class);
  }

  @Override
  protected KeyRef missingKey() {
    return KeyRef.soft("no-such-key");
  }

  @Override
  protected String secretText() {
    try {
      return Files.readString(dir.resolve("keys").resolve(SoftKeyBackend.PASSWORD_FILE)).strip();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  protected KeyException openWithWrongSecret() {
    service.generate(scheme(), KeySpec.EC_P256, uniqueLabel("pw"));
    try {
      SoftKeyBackend.open(dir.resolve("keys"), (secretText() + "x").toCharArray()).close();
      throw new AssertionError("a wrong keystore password was accepted");
    } catch (KeyException e) {
      return e;
    }
  }

  @Test
  void keysSurviveReopeningAndThePasswordFileIsOwnerOnly() throws Exception {
    Path d = Files.createTempDirectory("yinxin-soft-reopen-");
    KeyInfo info;
    try (SoftKeyBackend b = SoftKeyBackend.open(d)) {
      info = b.generate(KeySpec.SM2, "sm2-reopen");
    }
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(d.resolve("keystore.password"))))
        .isEqualTo("rw-------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(d.resolve("sm2-reopen.p12"))))
        .isEqualTo("rw-------");
    try (SoftKeyBackend b = SoftKeyBackend.open(d)) {
      byte[] data = randomData(100);
      byte[] sig = b.sign(info.ref(), SignatureAlgorithm.SM3_WITH_SM2, data);
      assertThat(JcaVerify.verify(SignatureAlgorithm.SM3_WITH_SM2, info.publicKey(), data, sig))
          .isTrue();
      assertThat(b.describe(info.ref()).spec()).isEqualTo(KeySpec.SM2);
    }
  }
}
