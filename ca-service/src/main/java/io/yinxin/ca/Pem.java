package io.yinxin.ca;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** PEM text (RFC 7468): the one place the CA writes it. */
public final class Pem {
  private Pem() {}

  /** {@code -----BEGIN type-----}, base64 in 64-character lines, {@code -----END type-----}. */
  public static String encode(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  public static String certificate(byte[] der) {
    return encode("CERTIFICATE", der);
  }
}
