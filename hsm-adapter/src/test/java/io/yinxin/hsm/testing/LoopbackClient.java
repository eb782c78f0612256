package io.yinxin.hsm.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * HTTP/1.1 POSTs to a server on 127.0.0.1 from another address of the loopback network
 * (127.0.0.0/8, e.g. 127.0.0.2), so that the server sees another client: for limits per client
 * address. One connection per request ({@code Connection: close}).
 */
public final class LoopbackClient {
  private LoopbackClient() {}

  /** An answer: its status code, its head (status line and header fields) and its body. */
  public record Answer(int status, String head, byte[] body) {
    /** The first value of header field {@code name} (any case). */
    public Optional<String> header(String name) {
      String prefix = name.toLowerCase(Locale.ROOT) + ":";
      return head.lines()
          .filter(l -> l.toLowerCase(Locale.ROOT).startsWith(prefix))
          .map(l -> l.substring(prefix.length()).strip())
          .findFirst();
    }
  }

  /**
   * POSTs {@code body} to {@code http://127.0.0.1:port + path} from {@code local}.
   *
   * @param local the client's address, in 127.0.0.0/8
   */
  public static Answer post(String local, int port, String path, String contentType, byte[] body)
      throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(local, 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(20_000);
      s.getOutputStream()
          .write(
              ("POST "
                      + path
                      + " HTTP/1.1\r\nHost: 127.0.0.1:"
                      + port
                      + "\r\nContent-Type: "
                      + contentType
                      + "\r\nContent-Length: "
                      + body.length
                      + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().write(body);
      byte[] all = s.getInputStream().readAllBytes();
      String text = new String(all, StandardCharsets.ISO_8859_1);
      int end = text.indexOf("\r\n\r\n");
      if (!text.startsWith("HTTP/1.1 ") || end < 0) {
        throw new IOException("not an HTTP/1.1 answer");
      }
      return new Answer(
          Integer.parseInt(text.substring(9, 12)),
          text.substring(0, end),
          Arrays.copyOfRange(all, end + 4, all.length));
    }
  }
}
