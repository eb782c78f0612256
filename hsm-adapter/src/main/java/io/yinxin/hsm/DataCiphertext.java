package io.yinxin.hsm;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The one layout of a ciphertext {@link KeyService#encrypt} returns, whichever backend made it, so
 * a stored value says how to open it: byte 0 the version ({@value #VERSION}), byte 1 the kind (1
 * AES-256-GCM, 2 SM4-GCM, 3 Vault Transit), then for GCM the 12-byte nonce and the ciphertext with
 * its 16-byte tag appended, for Vault the UTF-8 text Vault returned ({@code vault:v<N>:...}, which
 * names the key version). Pure functions over bytes.
 */
public final class DataCiphertext {
  public static final byte VERSION = 1;
  public static final int NONCE_BYTES = 12;
  public static final int TAG_BYTES = 16;
  private static final byte VAULT = 3;

  private DataCiphertext() {}

  /** A GCM ciphertext: the nonce and the sealed bytes (ciphertext ‖ tag). */
  public record Gcm(byte[] nonce, byte[] sealed) {}

  public static byte[] gcm(DataKeySpec spec, byte[] nonce, byte[] sealed) {
    if (nonce.length != NONCE_BYTES || sealed.length < TAG_BYTES) {
      throw new IllegalArgumentException("a GCM nonce is 12 bytes and the tag 16");
    }
    byte[] out = new byte[2 + NONCE_BYTES + sealed.length];
    out[0] = VERSION;
    out[1] = spec.id();
    System.arraycopy(nonce, 0, out, 2, NONCE_BYTES);
    System.arraycopy(sealed, 0, out, 2 + NONCE_BYTES, sealed.length);
    return out;
  }

  /**
   * Reads a GCM ciphertext made for a key of type {@code spec}.
   *
   * @throws KeyException {@code INVALID_CIPHERTEXT} for another layout, kind or a truncated value
   */
  public static Gcm parseGcm(byte[] ciphertext, DataKeySpec spec) {
    if (ciphertext == null
        || ciphertext.length < 2 + NONCE_BYTES + TAG_BYTES
        || ciphertext[0] != VERSION
        || ciphertext[1] != spec.id()) {
      throw invalid();
    }
    return new Gcm(
        Arrays.copyOfRange(ciphertext, 2, 2 + NONCE_BYTES),
        Arrays.copyOfRange(ciphertext, 2 + NONCE_BYTES, ciphertext.length));
  }

  public static byte[] vault(String text) {
    byte[] t = text.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[2 + t.length];
    out[0] = VERSION;
    out[1] = VAULT;
    System.arraycopy(t, 0, out, 2, t.length);
    return out;
  }

  /** The Vault ciphertext text inside, checked to be {@code vault:v<digits>:<base64>}. */
  public static String parseVault(byte[] ciphertext) {
    if (ciphertext == null
        || ciphertext.length < 12
        || ciphertext[0] != VERSION
        || ciphertext[1] != VAULT) {
      throw invalid();
    }
    String t = new String(ciphertext, 2, ciphertext.length - 2, StandardCharsets.UTF_8);
    if (!t.matches("vault:v[1-9][0-9]{0,8}:[A-Za-z0-9+/]+={0,2}")) {
      throw invalid();
    }
    return t;
  }

  static KeyException invalid() {
    return new KeyException(
        KeyException.Code.INVALID_CIPHERTEXT,
        "not a ciphertext of this key with this associated data");
  }
}
