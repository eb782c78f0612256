package io.yinxin.ca;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 and lower-case hex, the one place the CA computes them. */
public final class Sha256 {
  private Sha256() {}

  /** SHA-256 of the bytes. */
  public static byte[] digest(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java platform", e);
    }
  }

  /** Lower-case hex of the bytes. */
  public static String hex(byte[] data) {
    return HexFormat.of().formatHex(data);
  }
}
