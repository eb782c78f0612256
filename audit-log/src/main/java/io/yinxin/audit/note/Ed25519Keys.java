package io.yinxin.audit.note;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;

/** Raw 32-byte Ed25519 public keys, with the JDK's own provider (no dependencies). */
public final class Ed25519Keys {
  /** DER prefix of a SubjectPublicKeyInfo for id-Ed25519 (RFC 8410). */
  private static final byte[] SPKI_PREFIX = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
  };

  private Ed25519Keys() {}

  /** The raw key from an encoded Ed25519 public key. */
  public static byte[] raw(PublicKey key) {
    byte[] spki = key.getEncoded();
    if (spki.length != 44 || !Arrays.equals(Arrays.copyOf(spki, 12), SPKI_PREFIX)) {
      throw new IllegalArgumentException("not an Ed25519 public key");
    }
    return Arrays.copyOfRange(spki, 12, 44);
  }

  public static PublicKey fromRaw(byte[] raw) {
    if (raw.length != 32) {
      throw new IllegalArgumentException("an Ed25519 public key has 32 bytes");
    }
    byte[] spki = Arrays.copyOf(SPKI_PREFIX, 44);
    System.arraycopy(raw, 0, spki, 12, 32);
    try {
      return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("invalid Ed25519 public key", e);
    }
  }

  public static boolean verify(byte[] raw, byte[] message, byte[] signature) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(fromRaw(raw));
      s.update(message);
      return s.verify(signature);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }
}
