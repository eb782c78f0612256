package io.yinxin.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One HTTP/1.1 connection kept alive between requests, for a benchmark client that sends small form
 * POSTs as fast as the server answers: the request is written in one piece and the answer read by
 * its {@code Content-Length} or chunks, without the JDK client's selector thread, futures and
 * header maps. Reconnects when the server closes the connection (Tomcat after 100 requests) or when
 * a kept connection turns out to be closed. Not thread-safe: one per client thread.
 */
final class KeepAliveHttp implements AutoCloseable {
  record Response(int status, String body) {}

  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private String connectedTo;
  private final byte[] line = new byte[8192];

  Response postForm(String url, String form, String authorization) throws IOException {
    URI u = URI.create(url);
    String hostPort = u.getHost() + ":" + u.getPort();
    String path = u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
    byte[] body = form.getBytes(StandardCharsets.UTF_8);
    byte[] head =
        ("POST "
                + path
                + " HTTP/1.1\r\nHost: "
                + hostPort
                + "\r\nAccept: application/json\r\nContent-Type: application/x-www-form-urlencoded"
                + "\r\nContent-Length: "
                + body.length
                + (authorization == null ? "" : "\r\nAuthorization: " + authorization)
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    byte[] request = new byte[head.length + body.length];
    System.arraycopy(head, 0, request, 0, head.length);
    System.arraycopy(body, 0, request, head.length, body.length);
    boolean reused = socket != null && hostPort.equals(connectedTo);
    try {
      return exchange(u, hostPort, request);
    } catch (IOException e) {
      if (!reused) {
        throw e;
      }
      close(); // the server closed a kept connection between two requests: once more, fresh
      return exchange(u, hostPort, request);
    }
  }

  private Response exchange(URI u, String hostPort, byte[] request) throws IOException {
    if (socket == null || !hostPort.equals(connectedTo)) {
      close();
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(u.getHost(), u.getPort()), 5_000);
      socket.setSoTimeout(30_000);
      in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      out = socket.getOutputStream();
      connectedTo = hostPort;
    }
    out.write(request);
    out.flush();
    String status = readLine();
    if (status == null || !status.startsWith("HTTP/1.")) {
      throw new IOException("no HTTP answer: " + status);
    }
    int code = Integer.parseInt(status.substring(9, 12));
    long length = -1;
    boolean chunked = false;
    boolean closeAfter = status.startsWith("HTTP/1.0");
    for (String h = readLine(); h != null && !h.isEmpty(); h = readLine()) {
      int colon = h.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = h.substring(colon + 1).trim();
      switch (name) {
        case "content-length" -> length = Long.parseLong(value);
        case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
        case "connection" -> closeAfter = value.equalsIgnoreCase("close");
        default -> {}
      }
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream(1024);
    if (chunked) {
      while (true) {
        String size = readLine();
        if (size == null) {
          throw new IOException("truncated chunked body");
        }
        int semi = size.indexOf(';');
        int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
        if (n == 0) {
          for (String trailer = readLine();
              trailer != null && !trailer.isEmpty();
              trailer = readLine()) {
            // trailers are not used
          }
          break;
        }
        copy(n, body);
        readLine(); // the CRLF after the chunk
      }
    } else if (length >= 0) {
      copy(length, body);
    } else {
      in.transferTo(body);
      closeAfter = true;
    }
    if (closeAfter) {
      close();
    }
    return new Response(code, body.toString(StandardCharsets.UTF_8));
  }

  private void copy(long n, ByteArrayOutputStream to) throws IOException {
    byte[] buf = new byte[(int) Math.min(n, 16 * 1024)];
    while (n > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, n));
      if (r < 0) {
        throw new IOException("truncated body");
      }
      to.write(buf, 0, r);
      n -= r;
    }
  }

  /** A CRLF-terminated line without the CRLF, or null at the end of the stream. */
  private String readLine() throws IOException {
    int n = 0;
    while (true) {
      int b = in.read();
      if (b < 0) {
        return n == 0 ? null : new String(line, 0, n, StandardCharsets.ISO_8859_1);
      }
      if (b == '\n') {
        if (n > 0 && line[n - 1] == '\r') {
          n--;
        }
        return new String(line, 0, n, StandardCharsets.ISO_8859_1);
      }
      if (n == line.length) {
        throw new IOException("header line too long");
      }
      line[n++] = (byte) b;
    }
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    socket = null;
    connectedTo = null;
  }
}
