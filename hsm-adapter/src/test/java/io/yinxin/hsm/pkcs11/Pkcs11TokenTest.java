package io.yinxin.hsm.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.Secret;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.testing.JcaVerify;
import io.yinxin.hsm.testing.SoftHsm;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Slot;

/** What only a real token can show: key attributes, extraction refused, recovery. */
class Pkcs11TokenTest {
  private static final String TOKEN = "yinxin-reset";
  private static Secret pin;
  private static Pkcs11KeyBackend backend;
  private static KeyServices service;

  @BeforeAll
  static void open() {
    pin = SoftHsm.token(TOKEN);
    backend = Pkcs11KeyBackend.open(SoftHsm.module(), TOKEN, pin, 8);
    service = KeyServices.of(backend);
  }

  @AfterAll
  static void close() {
    service.close();
  }

  @Test
  void twoPlaceholderCertificatesForOneLabelAreAnErrorNotAGuess() throws Exception {
    service.generate(KeyRef.Scheme.PKCS11, KeySpec.EC_P256, "twin");
    Session rw = inspector(true);
    try {
      long[] found = rw.findObjectsSingle(AttributeVector.newX509Certificate().label("twin"), 2);
      assertThat(found).hasSize(1);
      AttributeVector a =
          rw.getAttrValues(
              found[0],
              PKCS11Constants.CKA_VALUE,
              PKCS11Constants.CKA_SUBJECT,
              PKCS11Constants.CKA_ID);
      rw.createObject(
          AttributeVector.newX509Certificate()
              .token(true)
              .private_(false)
              .label("twin")
              .id(new byte[16])
              .subject(a.subject())
              .value(a.value()));
    } finally {
      rw.closeSession();
    }
    try (KeyServices fresh =
        KeyServices.of(Pkcs11KeyBackend.open(SoftHsm.module(), TOKEN, pin, 2))) {
      assertThatThrownBy(() -> fresh.describe(KeyRef.pkcs11(TOKEN, "twin")))
          .isInstanceOfSatisfying(
              io.yinxin.hsm.KeyException.class,
              e -> assertThat(e.getMessage()).contains("two placeholder certificates"));
    }
  }

  /** A second, independent look at the token through the PKCS#11 API. */
  private static Session inspector() throws Exception {
    return inspector(false);
  }

  /** As {@link #inspector()}, read-write and logged in when {@code rw}. */
  private static Session inspector(boolean rw) throws Exception {
    PKCS11Module m = PKCS11Module.getInstance(SoftHsm.module().toString());
    try {
      m.initialize();
    } catch (PKCS11Exception e) {
      assertThat(e.getErrorCode()).isEqualTo(PKCS11Constants.CKR_CRYPTOKI_ALREADY_INITIALIZED);
    }
    for (Slot s : m.getSlotList(true)) {
      if (s.getToken().getTokenInfo().getLabel().strip().equals(TOKEN)) {
        Session session = s.getToken().openSession(rw);
        if (rw) {
          char[] p = pin.value();
          try {
            session.login(PKCS11Constants.CKU_USER, p);
          } catch (PKCS11Exception e) {
            if (e.getErrorCode() != PKCS11Constants.CKR_USER_ALREADY_LOGGED_IN) {
              throw e;
            }
          } finally {
            java.util.Arrays.fill(p, '\0');
          }
        }
        return session;
      }
    }
    throw new AssertionError("token not found");
  }

  @Test
  void privateKeysAreSensitiveNonExtractableSignOnlyTokenObjects() throws Exception {
    List<KeyInfo> keys = new ArrayList<>();
    keys.add(service.generate(KeyRef.Scheme.PKCS11, KeySpec.EC_P256, "attrs-ec"));
    keys.add(service.generate(KeyRef.Scheme.PKCS11, KeySpec.ED25519, "attrs-ed"));
    keys.add(service.generate(KeyRef.Scheme.PKCS11, KeySpec.RSA_3072, "attrs-rsa"));
    Session s = inspector();
    try {
      for (KeyInfo k : keys) {
        long[] found =
            s.findObjectsSingle(AttributeVector.newPrivateKey().label(k.ref().label()), 2);
        assertThat(found).as(k.ref().toString()).hasSize(1);
        AttributeVector a =
            s.getAttrValues(
                found[0],
                PKCS11Constants.CKA_TOKEN,
                PKCS11Constants.CKA_PRIVATE,
                PKCS11Constants.CKA_SENSITIVE,
                PKCS11Constants.CKA_EXTRACTABLE,
                PKCS11Constants.CKA_SIGN,
                PKCS11Constants.CKA_DECRYPT,
                PKCS11Constants.CKA_UNWRAP,
                PKCS11Constants.CKA_DERIVE,
                PKCS11Constants.CKA_MODIFIABLE,
                PKCS11Constants.CKA_COPYABLE,
                PKCS11Constants.CKA_ID);
        assertThat(a.token()).isTrue();
        assertThat(a.private_()).isTrue();
        assertThat(a.sensitive()).isTrue();
        assertThat(a.extractable()).isFalse();
        assertThat(a.sign()).isTrue();
        assertThat(a.decrypt()).isFalse();
        assertThat(a.unwrap()).isFalse();
        assertThat(a.derive()).isFalse();
        assertThat(a.modifiable()).isFalse();
        assertThat(a.copyable()).isFalse();
        assertThat(a.id()).hasSize(16);

        long handle = found[0];
        long secretAttr =
            k.spec() == KeySpec.RSA_3072
                ? PKCS11Constants.CKA_PRIVATE_EXPONENT
                : PKCS11Constants.CKA_VALUE;
        // The token must refuse the secret value: CKR_ATTRIBUTE_SENSITIVE, which the binding
        // reports either as an exception or as an absent value. Never bytes.
        byte[] leaked;
        try {
          leaked = s.getAttrValues(handle, secretAttr).getByteArrayAttrValue(secretAttr);
        } catch (PKCS11Exception e) {
          assertThat(e.getErrorCode()).isEqualTo(PKCS11Constants.CKR_ATTRIBUTE_SENSITIVE);
          leaked = null;
        }
        assertThat(leaked).as("secret value of " + k.ref()).isNull();
      }
    } finally {
      s.closeSession();
    }
  }

  /** OpenSC's pkcs11-tool, an outside judge, sees a sign-only key it cannot read out. */
  @Test
  void pkcs11ToolFromOpenScCannotReadThePrivateKey(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    service.generate(KeyRef.Scheme.PKCS11, KeySpec.EC_P256, "opensc-judge");
    String pinText = new String(pin.value());
    Process list =
        new ProcessBuilder(
                "pkcs11-tool",
                "--module",
                SoftHsm.module().toString(),
                "--token-label",
                TOKEN,
                "--login",
                "--pin",
                pinText,
                "--list-objects",
                "--type",
                "privkey")
            .redirectErrorStream(true)
            .start();
    String listing = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(list.waitFor()).as(listing).isZero();
    int at = listing.indexOf("opensc-judge");
    assertThat(at).as(listing).isPositive();
    int next = listing.indexOf("Private Key Object", at);
    String entry = listing.substring(at, next < 0 ? listing.length() : next);
    assertThat(entry).contains("never extractable").contains("sensitive");
    assertThat(entry).containsPattern("Usage:\\s+sign\\s*\\n");
  }

  @Test
  void sunPkcs11SeesOnlyAHandleNeverKeyBytes() throws Exception {
    KeyInfo k = service.generate(KeyRef.Scheme.PKCS11, KeySpec.EC_P384, "handle-only");
    java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS11", backendProvider());
    ks.load(null, pin.value());
    java.security.Key key = ks.getKey(k.ref().label(), null);
    assertThat(key).isNotNull();
    assertThat(key.getEncoded()).isNull();
  }

  private static java.security.Provider backendProvider() throws Exception {
    java.lang.reflect.Field f = Pkcs11KeyBackend.class.getDeclaredField("provider");
    f.setAccessible(true);
    return (java.security.Provider) f.get(backend);
  }

  @Test
  void signingRecoversAfterEverySessionOnTheTokenWasClosed() {
    KeyInfo ec = service.generate(KeyRef.Scheme.PKCS11, KeySpec.EC_P256, "reset-ec");
    KeyInfo ed = service.generate(KeyRef.Scheme.PKCS11, KeySpec.ED25519, "reset-ed");
    byte[] data = "before and after".getBytes(StandardCharsets.UTF_8);
    service.sign(ec.ref(), SignatureAlgorithm.ECDSA_SHA256, data, "t");
    service.sign(ed.ref(), SignatureAlgorithm.ED25519, data, "t");

    backend.simulateTokenReset();

    byte[] s1 = service.sign(ec.ref(), SignatureAlgorithm.ECDSA_SHA256, data, "t");
    assertThat(JcaVerify.verify(SignatureAlgorithm.ECDSA_SHA256, ec.publicKey(), data, s1))
        .isTrue();
    backend.simulateTokenReset();
    byte[] s2 = service.sign(ed.ref(), SignatureAlgorithm.ED25519, data, "t");
    assertThat(JcaVerify.verify(SignatureAlgorithm.ED25519, ed.publicKey(), data, s2)).isTrue();
    assertThat(service.health().up()).isTrue();
  }

  @Test
  void keysAreFoundAgainByLabelAfterReopening() {
    KeyInfo k = service.generate(KeyRef.Scheme.PKCS11, KeySpec.EC_P256, "reopen");
    try (Pkcs11KeyBackend again = Pkcs11KeyBackend.open(SoftHsm.module(), TOKEN, pin, 2)) {
      assertThat(again.describe(k.ref()).publicKey()).isEqualTo(k.publicKey());
      assertThat(again.list()).extracting(KeyInfo::ref).contains(k.ref());
    }
  }

  @Test
  void sm2IsUnsupportedOnPkcs11() {
    assertThatThrownBy(() -> service.generate(KeyRef.Scheme.PKCS11, KeySpec.SM2, "sm2"))
        .hasMessageContaining("cannot create SM2");
  }
}
