package io.yinxin.sso.account;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 30-second steps, 6
 * digits — what every authenticator app reads from an {@code otpauth://} QR code. Secrets are 20
 * random bytes (RFC 4226 §4 asks for at least 128 bits, recommends 160), shown as RFC 4648 base32.
 */
public final class Totp {
  public static final int STEP_SECONDS = 30;
  public static final int DIGITS = 6;
  private static final int[] POW10 = {
    1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000
  };

  private Totp() {}

  /** The time step of an instant (seconds since the epoch). */
  public static long step(long epochSeconds) {
    return Math.floorDiv(epochSeconds, STEP_SECONDS);
  }

  /** RFC 4226 §5.3: HOTP value of {@code counter}, {@code digits} long, zero-padded. */
  public static String hotp(byte[] secret, long counter, int digits) {
    byte[] msg = new byte[8];
    for (int i = 7; i >= 0; i--) {
      msg[i] = (byte) counter;
      counter >>>= 8;
    }
    byte[] h;
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(secret, "HmacSHA1"));
      h = mac.doFinal(msg);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    int offset = h[h.length - 1] & 0x0f;
    int binary =
        ((h[offset] & 0x7f) << 24)
            | ((h[offset + 1] & 0xff) << 16)
            | ((h[offset + 2] & 0xff) << 8)
            | (h[offset + 3] & 0xff);
    String s = Integer.toString(binary % POW10[digits]);
    return "0".repeat(digits - s.length()) + s;
  }

  /**
   * The step within one step of {@code nowStep} (RFC 6238 §5.2's allowance for clock drift and
   * typing time) whose code is {@code code}, or -1. Constant-time comparison of each candidate.
   */
  public static long matchingStep(byte[] secret, String code, long nowStep) {
    if (code == null
        || code.length() != DIGITS
        || !code.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return -1;
    }
    byte[] given = code.getBytes(StandardCharsets.US_ASCII);
    long found = -1;
    for (long s = nowStep - 1; s <= nowStep + 1; s++) {
      byte[] expected = hotp(secret, s, DIGITS).getBytes(StandardCharsets.US_ASCII);
      if (MessageDigest.isEqual(expected, given) && found < 0) {
        found = s;
      }
    }
    return found;
  }

  private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

  /** RFC 4648 base32, without padding (as {@code otpauth://} secrets are written). */
  public static String base32(byte[] data) {
    StringBuilder sb = new StringBuilder((data.length * 8 + 4) / 5);
    int buffer = 0;
    int bits = 0;
    for (byte b : data) {
      buffer = (buffer << 8) | (b & 0xff);
      bits += 8;
      while (bits >= 5) {
        sb.append(BASE32[(buffer >>> (bits - 5)) & 31]);
        bits -= 5;
      }
    }
    if (bits > 0) {
      sb.append(BASE32[(buffer << (5 - bits)) & 31]);
    }
    return sb.toString();
  }

  /** The {@code otpauth://totp/} URI an authenticator app reads (Key Uri Format). */
  public static String otpauthUri(String issuer, String account, byte[] secret) {
    String label = enc(issuer) + ":" + enc(account);
    return "otpauth://totp/"
        + label
        + "?secret="
        + base32(secret)
        + "&issuer="
        + enc(issuer)
        + "&algorithm=SHA1&digits="
        + DIGITS
        + "&period="
        + STEP_SECONDS;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
