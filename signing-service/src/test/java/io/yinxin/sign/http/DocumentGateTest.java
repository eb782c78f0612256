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

  @Test
  void busyIsAnswered503WithRetryAfter() {
    var r =
        new SignProblems()
            .problem(new SignException(SignException.Code.BUSY, "too many documents"));
    assertThat(r.getStatusCode().value()).isEqualTo(503);
    assertThat(r.getHeaders().getFirst("Retry-After")).isEqualTo("1");
    assertThat(r.getBody().getProperties()).containsEntry("code", "BUSY");
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
