package io.yinxin.hsm;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * Where nonces and salts come from: one NIST SP 800-90A DRBG per thread. The platform default on
 * Linux (NativePRNG) serialises every instance behind one global lock, which concurrent signers and
 * appenders feel.
 */
public final class Randomness {
  private static final ThreadLocal<SecureRandom> PER_THREAD =
      ThreadLocal.withInitial(Randomness::newDrbg);

  private Randomness() {}

  /** This thread's generator; never share it with another thread. */
  public static SecureRandom current() {
    return PER_THREAD.get();
  }

  private static SecureRandom newDrbg() {
    try {
      return SecureRandom.getInstance("DRBG");
    } catch (NoSuchAlgorithmException e) {
      return new SecureRandom();
    }
  }
}
