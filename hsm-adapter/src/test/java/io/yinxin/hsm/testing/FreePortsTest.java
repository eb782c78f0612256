package io.yinxin.hsm.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FreePortsTest {
  @Test
  void portsAreBelowTheEphemeralRangeBindableAndNeverGivenTwice() throws Exception {
    int ephemeralLow =
        Integer.parseInt(
            Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                .get(0)
                .trim()
                .split("\\s+")[0]);
    // Outgoing connections take their local ports from the ephemeral range, as the kernel says.
    List<Socket> outgoing = new ArrayList<>();
    try (ServerSocket listener = new ServerSocket(0)) {
      for (int i = 0; i < 50; i++) {
        outgoing.add(new Socket("127.0.0.1", listener.getLocalPort()));
      }
      assertThat(outgoing)
          .allSatisfy(s -> assertThat(s.getLocalPort()).isGreaterThanOrEqualTo(ephemeralLow));
      Set<Integer> seen = new HashSet<>();
      for (int i = 0; i < 500; i++) {
        int port = FreePorts.next();
        assertThat(port).isBetween(1024, ephemeralLow - 1);
        assertThat(seen.add(port)).as("port %d given twice", port).isTrue();
      }
      for (int port : seen.stream().limit(50).toList()) {
        try (ServerSocket s = new ServerSocket()) {
          s.bind(new InetSocketAddress("127.0.0.1", port));
          assertThat(s.getLocalPort()).isEqualTo(port);
        }
      }
    } finally {
      for (Socket s : outgoing) {
        s.close();
      }
    }
  }
}
