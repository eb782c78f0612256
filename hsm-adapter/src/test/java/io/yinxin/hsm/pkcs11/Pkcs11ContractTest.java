package io.yinxin.hsm.pkcs11;

import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.Secret;
import io.yinxin.hsm.testing.KeyServiceContract;
import io.yinxin.hsm.testing.SoftHsm;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The contract suite on SoftHSM2, a real PKCS#11 token. */
class Pkcs11ContractTest extends KeyServiceContract {
  static final String TOKEN = "yinxin-contract";
  private static Pkcs11KeyBackend backend;
  private static KeyServices service;
  private static String pinText;

  @BeforeAll
  static void openToken() {
    Secret pin = SoftHsm.token(TOKEN);
    pinText = new String(pin.value());
    backend = Pkcs11KeyBackend.open(SoftHsm.module(), TOKEN, pin, 16);
    service = KeyServices.of(backend);
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
    return KeyRef.Scheme.PKCS11;
  }

  @Override
  protected Set<KeySpec> supportedSpecs() {
    return EnumSet.of(KeySpec.EC_P256, KeySpec.EC_P384, KeySpec.RSA_3072, KeySpec.ED25519);
  }

  @Override
  protected KeyRef missingKey() {
    return KeyRef.pkcs11(TOKEN, "no-such-key");
  }

  @Override
  protected String secretText() {
    return pinText;
  }

  @Override
  protected KeyException openWithWrongSecret() {
    // A token nobody in this JVM has logged in to: PKCS#11 login state is per process.
    Secret real = SoftHsm.token("yinxin-wrong-pin");
    String wrong = new String(real.value()) + "0";
    try {
      Pkcs11KeyBackend.open(
              SoftHsm.module(), "yinxin-wrong-pin", Secret.of(wrong.toCharArray(), "test"), 4)
          .close();
      throw new AssertionError("a wrong PIN was accepted");
    } catch (KeyException e) {
      pinText = wrong;
      return e;
    }
  }
}
