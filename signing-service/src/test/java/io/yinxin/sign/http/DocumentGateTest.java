package io.yinxin.sign.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.sign.SignException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;

/**
 * The gate in front of PDFBox: sixty simultaneous anonymous validations of a 120 KB document that
 * inflates to 120 MiB took the embedded node's heap to 6 GB (seven answered 500, out of memory)
 * before it existed.
 */
class DocumentGateTest {
  /** Counts what the gates record on Micrometer's global registry (a node adds Prometheus's). */
  private static final io.micrometer.core.instrument.simple.SimpleMeterRegistry METERS =
      new io.micrometer.core.instrument.simple.SimpleMeterRegistry();

  @org.junit.jupiter.api.BeforeAll
  static void meters() {
    io.micrometer.core.instrument.Metrics.addRegistry(METERS);
  }

  @org.junit.jupiter.api.AfterAll
  static void noMeters() {
    io.micrometer.core.instrument.Metrics.removeRegistry(METERS);
  }

  @Test
  void aFullGateRefusesAtOnceWithBusyAndAReleasedPermitLetsTheNextIn() {
    DocumentGate gate = new DocumentGate("test", 2, Duration.ZERO);
    DocumentGate.Permit a = gate.enter();
    DocumentGate.Permit b = gate.enter();
    double busyBefore = busy("test");
    long start = System.nanoTime();
    assertThatThrownBy(gate::enter)
        .isInstanceOfSatisfying(
            SignException.class,
            e -> {
              assertThat(e.code()).isEqualTo(SignException.Code.BUSY);
              assertThat(e.code().httpStatus()).isEqualTo(503);
            });
    assertThat(System.nanoTime() - start).isLessThan(TimeUnit.MILLISECONDS.toNanos(500));
    assertThat(busy("test")).as("yinxin_sign_busy_total{gate=test}").isEqualTo(busyBefore + 1);
    a.close();
    a.close(); // twice releases once
    assertThat(gate.available()).isEqualTo(1);
    gate.enter().close();
    b.close();
    assertThat(gate.available()).isEqualTo(2);
  }

  @Test
  void aWaitingRequestGetsThePermitReleasedWithinItsWaitAndBusyAfterIt() throws Exception {
    DocumentGate gate = new DocumentGate("test", 1, Duration.ofMillis(300));
    DocumentGate.Permit held = gate.enter();
    long start = System.nanoTime();
    assertThatThrownBy(gate::enter)
        .isInstanceOfSatisfying(
            SignException.class, e -> assertThat(e.code()).isEqualTo(SignException.Code.BUSY));
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(Duration.ofMillis(300).toNanos());
    CompletableFuture<DocumentGate.Permit> waiting = CompletableFuture.supplyAsync(gate::enter);
    Thread.sleep(50);
    held.close();
    waiting.get(5, TimeUnit.SECONDS).close();
    assertThat(gate.available()).isEqualTo(1);
  }

  @Test
  void anInterruptedWaitIsBusyAndKeepsTheInterrupt() {
    DocumentGate gate = new DocumentGate("test", 1, Duration.ofSeconds(30));
    try (DocumentGate.Permit held = gate.enter()) {
      Thread.currentThread().interrupt();
      assertThatThrownBy(gate::enter)
          .isInstanceOfSatisfying(
              SignException.class, e -> assertThat(e.code()).isEqualTo(SignException.Code.BUSY));
      assertThat(Thread.interrupted()).isTrue();
    }
  }

  /** A validation that finds the gate full is answered BUSY and leaves no spooled file behind. */
  @Test
  void aValidationFindingTheGateFullIsBusyAndLeavesNothing() throws Exception {
    DocumentGate gate = new DocumentGate("validation-test", 1, Duration.ZERO);
    ValidationController controller =
        new ValidationController(
            new io.yinxin.sign.validate.PadesValidator(List::of), 1 << 20, gate);
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    long before = spooled(tmp);
    MockHttpServletRequest request = new MockHttpServletRequest("POST", "/sign/v1/validate");
    request.setContentType("application/pdf");
    request.setContent("%PDF-1.7\n%%EOF\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    try (DocumentGate.Permit held = gate.enter()) {
      assertThatThrownBy(() -> controller.validate("json", request))
          .isInstanceOfSatisfying(
              SignException.class, e -> assertThat(e.code()).isEqualTo(SignException.Code.BUSY));
    }
    assertThat(spooled(tmp)).isEqualTo(before);
    assertThat(gate.available()).isEqualTo(1);
    // With the permit free, the same request is validated (and refused as the non-PDF it is).
    MockHttpServletRequest again = new MockHttpServletRequest("POST", "/sign/v1/validate");
    again.setContentType("application/pdf");
    again.setContent("%PDF-1.7\n%%EOF\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    assertThatThrownBy(() -> controller.validate("json", again))
        .isInstanceOfSatisfying(
            SignException.class, e -> assertThat(e.code()).isEqualTo(SignException.Code.NOT_PDF));
    assertThat(gate.available()).isEqualTo(1);
  }

  /**
   * One address (IPv6: one /64, however written) gets its share of the permits and then 429 at
   * once; other addresses keep the rest until the gate is full (then 503, counted as no address's
   * work); a finished document gives its address room again, and a gate with everything closed
   * holds no address.
   */
  @Test
  void oneAddressGetsItsShareAtOnceAndTheOtherAddressesKeepTheRest() {
    DocumentGate gate = new DocumentGate("share-test", 4, 2, Duration.ofSeconds(30));
    DocumentGate.Permit a1 = gate.enter("2001:db8::1");
    DocumentGate.Permit a2 = gate.enter("2001:0db8:0000:0000:ffff::2");
    double limitedBefore = limited("share-test");
    long start = System.nanoTime();
    for (String sameSlash64 : List.of("2001:db8::1", "2001:DB8:0:0:1::9", "2001:db8::1%eth0")) {
      assertThatThrownBy(() -> gate.enter(sameSlash64))
          .as(sameSlash64)
          .isInstanceOfSatisfying(
              SignException.class,
              e -> {
                assertThat(e.code()).isEqualTo(SignException.Code.RATE_LIMITED);
                assertThat(e.code().httpStatus()).isEqualTo(429);
              });
    }
    // Refused without waiting, though the gate waits 30 s for a permit.
    assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(5));
    assertThat(limited("share-test")).isEqualTo(limitedBefore + 3);
    assertThat(gate.available()).isEqualTo(2);

    DocumentGate.Permit b = gate.enter("2001:db8:0:1::1"); // the next /64
    DocumentGate.Permit c = gate.enter("192.0.2.7");
    assertThat(gate.available()).isZero();
    assertThat(gate.addressesInWork()).isEqualTo(3);
    DocumentGate full = new DocumentGate("share-test-full", 2, 1, Duration.ZERO);
    try (DocumentGate.Permit one = full.enter("192.0.2.8");
        DocumentGate.Permit two = full.enter("192.0.2.10")) {
      assertThatThrownBy(() -> full.enter("192.0.2.9"))
          .isInstanceOfSatisfying(
              SignException.class, e -> assertThat(e.code()).isEqualTo(SignException.Code.BUSY));
      // A permit that did not come leaves no count behind.
      assertThat(full.addressesInWork()).isEqualTo(2);
    }
    assertThat(full.addressesInWork()).isZero();

    a1.close();
    a1.close(); // twice releases once, in the address's count too
    DocumentGate.Permit a3 = gate.enter("2001:db8::3");
    assertThatThrownBy(() -> gate.enter("2001:db8::4"))
        .isInstanceOfSatisfying(
            SignException.class,
            e -> assertThat(e.code()).isEqualTo(SignException.Code.RATE_LIMITED));
    for (DocumentGate.Permit p : List.of(a2, a3, b, c)) {
      p.close();
    }
    assertThat(gate.available()).isEqualTo(4);
    assertThat(gate.addressesInWork()).isZero();
    // The node's own requests (no address) are not counted apart.
    try (DocumentGate.Permit n1 = gate.enter(null);
        DocumentGate.Permit n2 = gate.enter(null);
        DocumentGate.Permit n3 = gate.enter(null)) {
      assertThat(gate.available()).isEqualTo(1);
      assertThat(gate.addressesInWork()).isZero();
    }
  }

  /**
   * An authenticated caller gets its share of the seal gate, and then 429 at once although the gate
   * waits for turns; other callers keep the rest. A caller is counted by its name, not as an
   * address: a caller named like an address does not share that address's count.
   */
  @Test
  void oneCallerGetsItsShareAtOnceAndTheOtherCallersKeepTheRest() {
    DocumentGate gate = new DocumentGate("caller-share-test", 4, 2, Duration.ofSeconds(30));
    DocumentGate.Permit a1 = gate.enterAsCaller("agency-a");
    DocumentGate.Permit a2 = gate.enterAsCaller("agency-a");
    double limitedBefore = limited("caller-share-test");
    long start = System.nanoTime();
    assertThatThrownBy(() -> gate.enterAsCaller("agency-a"))
        .isInstanceOfSatisfying(
            SignException.class,
            e -> {
              assertThat(e.code()).isEqualTo(SignException.Code.RATE_LIMITED);
              assertThat(e.getMessage()).startsWith("this caller already has 2 document(s)");
            });
    assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(5));
    assertThat(limited("caller-share-test")).isEqualTo(limitedBefore + 1);
    DocumentGate.Permit b = gate.enterAsCaller("agency-b");
    DocumentGate.Permit address = gate.enter("192.0.2.1");
    assertThat(gate.available()).isZero();
    assertThat(gate.addressesInWork()).isEqualTo(3);
    a1.close();
    gate.enterAsCaller("agency-a").close();
    for (DocumentGate.Permit p : List.of(a2, b, address)) {
      p.close();
    }
    assertThat(gate.available()).isEqualTo(4);
    assertThat(gate.addressesInWork()).isZero();
    // A caller named like an address is not that address.
    try (DocumentGate.Permit x1 = gate.enter("192.0.2.1");
        DocumentGate.Permit x2 = gate.enter("192.0.2.1");
        DocumentGate.Permit named = gate.enterAsCaller("192.0.2.1")) {
      assertThat(gate.addressesInWork()).isEqualTo(2);
    }
    // With a share of all the permits, callers are not counted at all.
    DocumentGate unshared = new DocumentGate("caller-unshared-test", 2, Duration.ZERO);
    try (DocumentGate.Permit one = unshared.enterAsCaller("agency-a");
        DocumentGate.Permit two = unshared.enterAsCaller("agency-a")) {
      assertThat(unshared.addressesInWork()).isZero();
    }
  }

  @Test
  void aShareOutsideOneToThePermitsIsRefused() {
    assertThatThrownBy(() -> new DocumentGate("x", 2, 0, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new DocumentGate("x", 2, 3, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rateLimitedIsAnswered429WithRetryAfter() {
    var r =
        new SignProblems()
            .problem(new SignException(SignException.Code.RATE_LIMITED, "this address"));
    assertThat(r.getStatusCode().value()).isEqualTo(429);
    assertThat(r.getHeaders().getFirst("Retry-After")).isEqualTo("1");
    assertThat(r.getBody().getProperties()).containsEntry("code", "RATE_LIMITED");
  }

  @Test
  void busyIsAnswered503WithRetryAfter() {
    var r =
        new SignProblems()
            .problem(new SignException(SignException.Code.BUSY, "too many documents"));
    assertThat(r.getStatusCode().value()).isEqualTo(503);
    assertThat(r.getHeaders().getFirst("Retry-After")).isEqualTo("1");
    assertThat(r.getBody().getProperties()).containsEntry("code", "BUSY");
  }

  private static double limited(String gate) {
    var c = METERS.find("yinxin.sign.limited").tag("gate", gate).counter();
    return c == null ? 0 : c.count();
  }

  private static double busy(String gate) {
    var c = METERS.find("yinxin.sign.busy").tag("gate", gate).counter();
    return c == null ? 0 : c.count();
  }

  private static long spooled(Path dir) throws Exception {
    try (var files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().startsWith("yinxin-validate-")).count();
    }
  }
}
