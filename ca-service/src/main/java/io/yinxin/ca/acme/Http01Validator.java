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
import java.util.concurrent.TimeUnit;

/**
 * The http-01 check of RFC 8555 §8.3: GET {@code http://<name>:<port>/.well-known/acme-challenge/
 * <token>} must answer 200 with the key authorization. Names under {@code .localhost} (RFC 6761)
 * are reached on the loopback address without asking DNS.
 */
final class Http01Validator {
  static final int MAX_RESPONSE = 8192;

  /** The whole validation — connect, send, read — ends within this, however the peer drips. */
  static final long DEADLINE_MS = 10_000;

  private final int port;
  private final boolean allowLocalhost;
  private final long deadlineMs;

  /**
   * @param allowLocalhost names under {@code .localhost} are validated on the loopback address
   *     (development); otherwise every address a name resolves to must be a public unicast one
   */
  Http01Validator(int port, boolean allowLocalhost) {
    this(port, allowLocalhost, DEADLINE_MS);
  }

  Http01Validator(int port, boolean allowLocalhost, long deadlineMs) {
    this.port = port;
    this.allowLocalhost = allowLocalhost;
    this.deadlineMs = deadlineMs;
  }

  /**
   * Whether the CA may connect to this address for a validation: only addresses the IANA
   * special-purpose registries (RFC 6890 and its updates) leave globally reachable. IPv4: not
   * loopback, private (RFC 1918), shared (RFC 6598), link-local, multicast, "this network",
   * protocol assignments, documentation, benchmarking, the 6to4 relay anycast or reserved. IPv6:
   * only global unicast (2000::/3), and in it not the IETF protocol assignments (2001::/23, Teredo
   * among them), documentation (2001:db8::/32, 3fff::/20) or 6to4 (2002::/16, which tunnels to any
   * IPv4 address); a NAT64 address (64:ff9b::/96, RFC 6052) is judged by the IPv4 address it
   * carries, and IPv4-mapped addresses are judged as IPv4. Everything else in IPv6 —
   * IPv4-compatible {@code ::a.b.c.d}, discard-only {@code 100::/64}, unique-local, link- and
   * site-local, multicast — is refused. Otherwise a certificate request would make the CA probe its
   * own network.
   */
  static boolean isPublic(InetAddress a) {
    if (a.isLoopbackAddress()
        || a.isAnyLocalAddress()
        || a.isLinkLocalAddress()
        || a.isSiteLocalAddress()
        || a.isMulticastAddress()) {
      return false;
    }
    byte[] b = a.getAddress();
    if (b.length == 16) {
      return isPublicV6(b);
    }
    return isPublicV4(b[0] & 0xff, b[1] & 0xff, b[2] & 0xff);
  }

  private static boolean isPublicV4(int o0, int o1, int o2) {
    return !(o0 == 0 // 0.0.0.0/8 "this network"
        || o0 == 10 // private
        || o0 == 127 // loopback
        || (o0 == 169 && o1 == 254) // link-local
        || (o0 == 172 && o1 >= 16 && o1 <= 31) // private
        || (o0 == 192 && o1 == 168) // private
        || (o0 == 100 && o1 >= 64 && o1 <= 127) // 100.64.0.0/10 shared (CGNAT)
        || (o0 == 192 && o1 == 0 && o2 == 0) // 192.0.0.0/24 protocol assignments
        || (o0 == 192 && o1 == 0 && o2 == 2) // documentation
        || (o0 == 192 && o1 == 88 && o2 == 99) // 6to4 relay anycast (RFC 7526)
        || (o0 == 198 && (o1 == 18 || o1 == 19)) // benchmarking
        || (o0 == 198 && o1 == 51 && o2 == 100) // documentation
        || (o0 == 203 && o1 == 0 && o2 == 113) // documentation
        || o0 >= 224); // multicast, reserved and broadcast
  }

  private static boolean isPublicV6(byte[] b) {
    int w0 = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
    int w1 = ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    if (w0 == 0x0064 && w1 == 0xff9b && allZero(b, 4, 12)) {
      return isPublicV4(b[12] & 0xff, b[13] & 0xff, b[14] & 0xff); // NAT64 well-known prefix
    }
    if ((w0 & 0xe000) != 0x2000) {
      return false; // outside global unicast 2000::/3
    }
    return !((w0 == 0x2001 && w1 < 0x0200) // 2001::/23 IETF protocol assignments (Teredo, ORCHID)
        || (w0 == 0x2001 && w1 == 0x0db8) // documentation
        || w0 == 0x2002 // 6to4
        || (w0 == 0x3fff && (w1 & 0xf000) == 0)); // 3fff::/20 documentation (RFC 9637)
  }

  private static boolean allZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** The address to connect to, or why there is none the CA may use. */
  private InetAddress address(String name) throws IOException {
    if (allowLocalhost && (name.endsWith(".localhost") || name.equals("localhost"))) {
      return InetAddress.getLoopbackAddress();
    }
    InetAddress[] all = InetAddress.getAllByName(name);
    for (InetAddress a : all) {
      // Every address is checked: one internal answer among public ones is refused too.
      if (!isPublic(a)) {
        throw new RefusedAddress();
      }
    }
    return all[0];
  }

  /** A name that resolves to an address the CA does not connect to. */
  private static final class RefusedAddress extends IOException {
    private static final long serialVersionUID = 1L;
  }

  /**
   * Fetches the challenge response.
   *
   * @return empty if it matched, else what was wrong (for the ACME error detail)
   */
  Optional<String> validate(String name, String token, String keyAuthorization) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(deadlineMs);
    try {
      // Resolved once and connected to exactly what was checked (no second lookup to rebind).
      InetAddress addr = address(name);
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(addr, port), (int) deadlineMs);
        s.setSoTimeout(remainingMs(deadline));
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
        byte[] raw = readAtMost(s, MAX_RESPONSE, deadline);
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
    } catch (RefusedAddress e) {
      // Says nothing about what, if anything, listens there.
      return Optional.of(name + " resolves to an address the CA does not connect to");
    } catch (DeadlinePassed e) {
      return Optional.of(
          "the challenge from " + name + " did not arrive within " + deadlineMs + " ms");
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

  /** The whole validation's time is up. */
  private static final class DeadlinePassed extends IOException {
    private static final long serialVersionUID = 1L;
  }

  private static int remainingMs(long deadline) throws DeadlinePassed {
    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    if (left <= 0) {
      throw new DeadlinePassed();
    }
    return (int) left;
  }

  /** Reads up to {@code max} bytes, giving up at the deadline however slowly they come. */
  private static byte[] readAtMost(Socket s, int max, long deadline) throws IOException {
    InputStream in = s.getInputStream();
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    byte[] b = new byte[1024];
    while (buf.size() < max) {
      s.setSoTimeout(remainingMs(deadline));
      int n;
      try {
        n = in.read(b, 0, Math.min(b.length, max - buf.size()));
      } catch (java.net.SocketTimeoutException e) {
        throw new DeadlinePassed();
      }
      if (n <= 0) {
        break;
      }
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
