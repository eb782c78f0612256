package io.yinxin.hsm.bridge;

import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeySpec;
import java.security.PrivateKey;

/**
 * A {@link PrivateKey} that is only a name: it holds no key material ({@link #getEncoded()} is
 * null) and signs only through {@link KeyServiceProvider}. For libraries that insist on a
 * PrivateKey object.
 */
public final class KeyHandle implements PrivateKey {
  private static final long serialVersionUID = 1L;

  private final transient KeyService keys;
  private final KeyRef ref;
  private final KeySpec spec;
  private final String purpose;

  public KeyHandle(KeyService keys, KeyRef ref, String purpose) {
    this.keys = keys;
    this.ref = ref;
    this.spec = keys.describe(ref).spec();
    this.purpose = purpose;
  }

  KeyService keys() {
    return keys;
  }

  public KeyRef ref() {
    return ref;
  }

  public KeySpec spec() {
    return spec;
  }

  String purpose() {
    return purpose;
  }

  @Override
  public String getAlgorithm() {
    return spec == KeySpec.SM2 ? "SM2" : spec.jcaAlgorithm();
  }

  /** Always null: the key never leaves its backend. */
  @Override
  public String getFormat() {
    return null;
  }

  /** Always null: the key never leaves its backend. */
  @Override
  public byte[] getEncoded() {
    return null;
  }

  @Override
  public String toString() {
    return "KeyHandle[" + ref + "]";
  }
}
