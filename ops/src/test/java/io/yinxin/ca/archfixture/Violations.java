package io.yinxin.ca.archfixture;

import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.SignatureAlgorithm;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;

/**
 * ArchitectureTest fixtures: each class breaks exactly one rule on purpose, so the test can show
 * that every rule fails when broken. Test code only; never imported by the rules' main check.
 */
public final class Violations {
  private Violations() {}

  /** Imports another service. */
  public static final class ImportsAnotherService {
    public int call() {
      return io.yinxin.sso.archfixture.SsoThing.value();
    }
  }

  /** Reaches into the audit log's store instead of its client API. */
  public static final class UsesTheAuditStore {
    public Class<?> store() {
      return io.yinxin.audit.store.Integrator.class;
    }
  }

  /** Holds a private key. */
  public static final class HoldsAPrivateKey {
    public PrivateKey key;
  }

  /** Signs with a private key of its own. */
  public static final class InitialisesASigner {
    public void sign(Signature s, PrivateKey k) throws Exception {
      s.initSign(k);
    }
  }

  /** Decodes private key material. */
  public static final class DecodesAPrivateKey {
    public Object decode(byte[] pkcs8) throws Exception {
      return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    }
  }

  /** Uses a Bouncy Castle private key parameter. */
  public static final class UsesBouncyCastlePrivateParameters {
    public org.bouncycastle.crypto.params.ECPrivateKeyParameters key;
  }

  /** Reaches a key backend directly. */
  public static final class UsesASoftBackend {
    public Class<?> backend() {
      return io.yinxin.hsm.soft.SoftKeyBackend.class;
    }
  }

  /** Skips the key-use audit event without being one of the callers allowed to. */
  public static final class SkipsTheKeyUseRecord {
    public byte[] sign(KeyService keys, KeyRef ref) {
      return keys.signRecordedByCaller(ref, SignatureAlgorithm.ECDSA_SHA256, new byte[1], "x");
    }
  }

  /** Decrypts with a data protection key without the key-use event, not being the audit log. */
  public static final class OpensWithoutTheKeyUseRecord {
    public byte[] open(KeyService keys, KeyRef ref) {
      return keys.decryptRecordedByCaller(ref, new byte[40], new byte[1], "x");
    }
  }
}
