package io.yinxin.ca.acme;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * The http-01 check of RFC 8555 §8.3: GET {@code http://<name>:<port>/.well-known/acme-challenge/
 * <token>} must answer 200 with the key authorization. Names under {@code .localhost} (RFC 6761)
 * are reached on the loopback address without asking DNS.
 */
final class Http01Validator {
  static final int MAX_RESPONSE = 8192;
  private static final int TIMEOUT_MS = 10_000;

  private final int port;

  Http01Validator(int port) {
    this.port = port;
  }

  /**
   * Fetches the challenge response.
   *
   * @return empty if it matched, else what was wrong (for the ACME error detail)
   */
  Optional<String> validate(String name, String token, String keyAuthorization) {
    try {
      InetAddress addr =
          name.endsWith(".localhost") || name.equals("localhost")
              ? InetAddress.getLoopbackAddress()
              : InetAddress.getByName(name);
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(addr, port), TIMEOUT_MS);
        s.setSoTimeout(TIMEOUT_MS);
        OutputStream out = s.getOutputStream();
        out.write(
            ("GET /.well-known/acme-challenge/"
                    + token
                    + " HTTP/1.1\r\nHost: "
                    + name
                    + (port == 80 ? "" : ":" + port)
                    + "\r\nUser-Agent: Yinxin-ACME\r\nAccept: */*\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        byte[] raw = readAtMost(s.getInputStream(), MAX_RESPONSE);
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        int headerEnd = text.indexOf("\r\n\r\n");
        if (headerEnd < 0 || !text.startsWith("HTTP/1.")) {
          return Optional.of("the challenge response from " + name + " is not HTTP");
        }
        String[] status = text.substring(0, text.indexOf("\r\n")).split(" ");
        if (status.length < 2 || !status[1].equals("200")) {
          return Optional.of(
              "GET /.well-known/acme-challenge/… on "
                  + name
                  + " answered "
                  + (status.length > 1 ? status[1] : "?")
                  + ", not 200");
        }
        String headers = text.substring(0, headerEnd).toLowerCase(Locale.ROOT);
        String body = text.substring(headerEnd + 4);
        if (headers.contains("transfer-encoding: chunked")) {
          body = dechunk(body);
        }
        if (!body.strip().equals(keyAuthorization)) {
          return Optional.of("the key authorization served by " + name + " does not match");
        }
        return Optional.empty();
      }
    } catch (IOException e) {
      return Optional.of(
          "cannot fetch the challenge from "
              + name
              + ":"
              + port
              + " ("
              + e.getClass().getSimpleName()
              + ")");
    }
  }

  private static byte[] readAtMost(InputStream in, int max) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    byte[] b = new byte[1024];
    int n;
    while (buf.size() < max && (n = in.read(b, 0, Math.min(b.length, max - buf.size()))) > 0) {
      buf.write(b, 0, n);
    }
    return buf.toByteArray();
  }

  private static String dechunk(String body) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < body.length()) {
      int eol = body.indexOf("\r\n", i);
      if (eol < 0) {
        break;
      }
      int size;
      try {
        size = Integer.parseInt(body.substring(i, eol).split(";")[0].strip(), 16);
      } catch (NumberFormatException e) {
        break;
      }
      if (size == 0 || eol + 2 + size > body.length()) {
        break;
      }
      out.append(body, eol + 2, eol + 2 + size);
      i = eol + 2 + size + 2;
    }
    return out.toString();
  }
}
