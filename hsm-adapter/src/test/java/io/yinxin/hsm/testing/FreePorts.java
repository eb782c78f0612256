package io.yinxin.hsm.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * TCP ports for servers a test starts later (a node, a second connector, PostgreSQL, Prometheus).
 *
 * <p>A port from {@code new ServerSocket(0)} comes from the kernel's ephemeral range, which is also
 * where every outgoing connection on the machine takes its local port: between choosing the port
 * and the server binding it, a JDBC pool, curl or another build's test can hold it, and the server
 * fails with "address already in use". A port below the ephemeral range is never handed out that
 * way, so here it is drawn at random from below it, checked free, and not handed out twice by this
 * JVM.
 */
public final class FreePorts {
  private static final int LOWEST = 10_000;
  private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

  private FreePorts() {}

  /** A port free on this machine now, below the kernel's ephemeral range, not given out before. */
  public static int next() {
    int top = ephemeralLow() - 1;
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOWEST, top + 1);
      if (GIVEN.add(port) && free(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port in " + LOWEST + ".." + top);
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The lowest ephemeral port (Linux: net.ipv4.ip_local_port_range), 32768 where unknown. */
  private static int ephemeralLow() {
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    try {
      if (Files.isReadable(range)) {
        // not Files.readString: on JDK 17 it returns only this procfs file's first byte
        int low = Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0]);
        if (low > LOWEST + 1_000) {
          return low;
        }
      }
      return 32_768;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NumberFormatException e) {
      return 32_768;
    }
  }
}
