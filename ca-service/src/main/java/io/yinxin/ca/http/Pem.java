package io.yinxin.ca.http;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** PEM text (RFC 7468). */
final class Pem {
  private Pem() {}

  static String encode(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  static String certificate(byte[] der) {
    return encode("CERTIFICATE", der);
  }
}
