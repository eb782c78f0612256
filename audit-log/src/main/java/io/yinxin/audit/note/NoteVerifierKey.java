package io.yinxin.audit.note;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A C2SP signed-note verifier key: {@code name+hex(keyID)+base64(type ‖ pubkey)}, with type 0x01
 * for Ed25519 note signatures (logs) and 0x04 for Ed25519 cosignature/v1 (witnesses). The key ID is
 * the first 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ pubkey).
 *
 * @param name the key name (for a log, its origin)
 * @param type 0x01 or 0x04
 * @param publicKey the raw 32-byte Ed25519 key
 */
public record NoteVerifierKey(String name, int type, byte[] publicKey) {
  public static final int ED25519 = 0x01;
  public static final int COSIGNATURE_V1 = 0x04;

  public NoteVerifierKey {
    if (name.isEmpty() || name.contains("+") || name.chars().anyMatch(c -> c <= ' ')) {
      throw new IllegalArgumentException("a key name is non-empty, without spaces or '+'");
    }
    if (type != ED25519 && type != COSIGNATURE_V1) {
      throw new IllegalArgumentException("only Ed25519 note and cosignature keys are supported");
    }
    if (publicKey.length != 32) {
      throw new IllegalArgumentException("an Ed25519 public key has 32 bytes");
    }
    publicKey = publicKey.clone();
  }

  @Override
  public byte[] publicKey() {
    return publicKey.clone();
  }

  /** The 4-byte key ID. */
  public byte[] keyId() {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(name.getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0x0a);
      md.update((byte) type);
      md.update(publicKey);
      return Arrays.copyOf(md.digest(), 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses {@code name+hexid+base64}; checks that the ID matches the key. */
  public static NoteVerifierKey parse(String text) {
    // The name has no '+', the hex ID none either; the base64 key material may.
    String[] parts = text.strip().split("\\+", 3);
    if (parts.length != 3 || parts[1].length() != 8) {
      throw new IllegalArgumentException("a verifier key is name+hex(keyID)+base64(key)");
    }
    byte[] material;
    try {
      material = Base64.getDecoder().decode(parts[2]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("verifier key material is not base64");
    }
    if (material.length != 33) {
      throw new IllegalArgumentException("verifier key material is type byte + 32-byte key");
    }
    NoteVerifierKey k =
        new NoteVerifierKey(parts[0], material[0] & 0xff, Arrays.copyOfRange(material, 1, 33));
    if (!HexFormat.of().formatHex(k.keyId()).equals(parts[1].toLowerCase(java.util.Locale.ROOT))) {
      throw new IllegalArgumentException("verifier key ID does not match its key");
    }
    return k;
  }

  @Override
  public String toString() {
    byte[] material = new byte[33];
    material[0] = (byte) type;
    System.arraycopy(publicKey, 0, material, 1, 32);
    return name
        + "+"
        + HexFormat.of().formatHex(keyId())
        + "+"
        + Base64.getEncoder().encodeToString(material);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NoteVerifierKey k
        && k.name.equals(name)
        && k.type == type
        && Arrays.equals(k.publicKey, publicKey);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(publicKey);
  }
}
