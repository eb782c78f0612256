package io.yinxin.ca.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** http-01 validation cannot be turned into a probe of the CA's network, nor stalled. */
class Http01ValidatorTest {

  @Test
  void onlyPublicUnicastAddressesAreConnectedTo() throws Exception {
    String[] internal = {
      "127.0.0.1",
      "127.255.0.9",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "240.0.0.1",
      "192.0.2.1",
      "198.18.0.1",
      "::1",
      "::",
      "fe80::1",
      "fc00::1",
      "fd12:3456::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "2001:db8::1",
      // The rest of the IANA special-purpose registries (RFC 6890 and updates), at their edges.
      "192.88.99.1", // 6to4 relay anycast
      "192.0.0.255",
      "198.19.255.255",
      "198.51.100.7",
      "203.0.113.255",
      "::7f00:1", // IPv4-compatible ::127.0.0.1
      "::a00:1",
      "::ffff:0:7f00:1", // IPv4-translated
      "64:ff9b::a00:1", // NAT64 of 10.0.0.1
      "64:ff9b::7f00:1",
      "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
      "64:ff9b:1::808:808", // local-use NAT64 (RFC 8215)
      "100::1", // discard-only
      "2001::1", // Teredo
      "2001:0:4136:e378:8000:63bf:3fff:fdd2",
      "2001:2::1", // benchmarking
      "2001:10::1", // ORCHID
      "2001:1ff:ffff::1", // last of 2001::/23
      "2002:7f00:1::1", // 6to4 of 127.0.0.1
      "2002:a00:1::1",
      "3fff::1", // documentation (RFC 9637)
      "3fff:fff::1",
      "5f00::1", // SRv6 SIDs
      "fec0::1", // site-local
      "4000::1", // outside 2000::/3, unallocated
      "1fff:ffff::1"
    };
    for (String a : internal) {
      assertThat(Http01Validator.isPublic(InetAddress.getByName(a))).as(a).isFalse();
    }
    for (String a :
        new String[] {
          "8.8.8.8",
          "1.1.1.1",
          "172.32.0.1",
          "100.128.0.1",
          "192.88.98.1",
          "198.20.0.1",
          "223.255.255.1",
          "2606:4700::1111",
          "2400:3200::1",
          "2001:200::1", // first after 2001::/23 (WIDE)
          "2001:db9::1",
          "2003::1",
          "3ffe:ffff::1",
          "3fff:1000::1", // first after 3fff::/20
          "64:ff9b::808:808" // NAT64 of 8.8.8.8, as an IPv6-only CA behind DNS64 would see it
        }) {
      assertThat(Http01Validator.isPublic(InetAddress.getByName(a))).as(a).isTrue();
    }
  }

  @Test
  void aNameResolvingToLoopbackIsRefusedWithoutSayingWhatListensThere() throws Exception {
    try (ServerSocket listening = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Http01Validator production = new Http01Validator(listening.getLocalPort(), false);
      Optional<String> err = production.validate("localhost", "t", "t.k");
      assertThat(err).isPresent();
      assertThat(err.get()).contains("does not connect to").doesNotContain("answered");
    }
  }

  @Test
  void aPeerDrippingOneByteAtATimeIsCutOffAtTheDeadline() throws Exception {
    try (ServerSocket drip = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread server =
          new Thread(
              () -> {
                try (Socket s = drip.accept()) {
                  OutputStream out = s.getOutputStream();
                  for (int i = 0; i < 10_000; i++) {
                    out.write('H');
                    out.flush();
                    Thread.sleep(200);
                  }
                } catch (Exception e) {
                  // the validator hung up: done
                }
              });
      server.setDaemon(true);
      server.start();
      Http01Validator v = new Http01Validator(drip.getLocalPort(), true, 1500);
      Optional<String> err =
          assertTimeoutPreemptively(
              Duration.ofSeconds(30), () -> v.validate("drip.localhost", "t", "t.k"));
      assertThat(err).hasValueSatisfying(e -> assertThat(e).contains("did not arrive within"));
    }
  }
}
