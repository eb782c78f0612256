package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The embedded default stops cleanly: its background jobs (status feed, CRL and OCSP upkeep,
 * checkpoints) stop and finish before the H2 database closes, so stopping logs no failed poll, no
 * failed checkpoint and no "database is already closed".
 */
@ExtendWith(OutputCaptureExtension.class)
class CleanShutdownTest {

  @Test
  void stoppingTheEmbeddedNodeLogsNoJobFailingAgainstAClosedDatabase(CapturedOutput output)
      throws Exception {
    String data = Files.createTempDirectory("yinxin-stop-").toString();
    ConfigurableApplicationContext ctx =
        new SpringApplicationBuilder(YinxinApplication.class)
            .run(
                "--server.port=0",
                "--yinxin.data-dir=" + data,
                "--yinxin.audit.checkpoint-interval=20ms");
    // Stop once the checkpoint job (every 20 ms) has published: its next round is in flight.
    io.yinxin.audit.store.LogStore store = ctx.getBean(io.yinxin.audit.store.LogStore.class);
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(20))
        .until(
            () -> {
              try (var c = store.connection()) {
                return store.latestCheckpoint(c).isPresent();
              }
            });
    ctx.close();
    assertThat(output.getAll())
        .doesNotContain("status_poll_failed")
        .doesNotContain("audit_checkpoint_failed")
        .doesNotContain("crl_refresh_failed")
        .doesNotContain("already closed");
  }

  /**
   * SIGTERM, as an operator or Kubernetes stops a node: the JVM's shutdown hooks run together, and
   * H2's own hook used to close the embedded database while Spring was still stopping the beans, so
   * the TSA's last tally of tokens (recorded when it closes) was lost with "not recorded". Three
   * tokens, the node stopped by SIGTERM and started again: one KEY_USED event counts them.
   *
   * <p>Before that, the same node's start: its checkpoints are stamped by its own TSA, which
   * answers only once the web server is up. The checkpoint job used to ask from its first round on
   * and logged about 20 failed stamps (and counted them in the failure metric) at every start; now
   * it asks once the node has started, and the first request succeeds.
   */
  @Test
  void aNodeStampsItsCheckpointsFromItsStartAndSigtermRecordsTheTsaTally() throws Exception {
    java.nio.file.Path work = Files.createTempDirectory("yinxin-sigterm-");
    java.nio.file.Path data = work.resolve("data");
    Cleanup cleanup = new Cleanup();
    cleanup.add(() -> BackupRestoreTest.deleteTree(work));
    try {
      NodeProcesses.Node node =
          NodeProcesses.start(cleanup, work, data, "node", "--yinxin.sign.tsa.key-use-interval=1h");
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(60))
          .until(() -> Files.readString(node.log()).contains("event=audit_checkpoint_timestamped"));
      assertThat(Files.readString(node.log())).doesNotContain("audit_timestamp_failed");
      java.util.List<java.math.BigInteger> serials = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        serials.add(NodeProcesses.timeStamp(node.base(), new byte[] {7}));
      }
      node.process().destroy(); // SIGTERM
      assertThat(node.process().waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(Files.readString(node.log()))
          .doesNotContain("tsa_key_use_not_recorded")
          .doesNotContain("already closed");

      NodeProcesses.Node again = NodeProcesses.start(cleanup, work, data, "again");
      String auditor =
          new tools.jackson.databind.ObjectMapper()
              .readTree(Files.readString(data.resolve("dev.json")))
              .path("auditorToken")
              .asString();
      var bundle =
          NodeProcesses.post(
              again.base() + "/audit/v1/bundles",
              auditor,
              "{\"type\":\"KEY_USED\",\"limit\":1000}");
      assertThat(bundle.statusCode()).as(bundle.body()).isEqualTo(200);
      // The node stamps its own checkpoints with the same TSA: the tally may hold those tokens
      // too, so it is the one whose serial range holds these three.
      var json = new tools.jackson.databind.ObjectMapper();
      java.util.List<tools.jackson.databind.JsonNode> tallies = new java.util.ArrayList<>();
      for (var e : json.readTree(bundle.body()).path("entries")) {
        var attributes = json.readTree(e.path("event").asString()).path("attributes");
        if (attributes.path("purpose").asString().equals("rfc3161-timestamp")) {
          tallies.add(attributes);
        }
      }
      assertThat(tallies)
          .anySatisfy(
              t -> {
                assertThat(new java.math.BigInteger(t.path("firstSerial").asString()))
                    .isLessThanOrEqualTo(serials.get(0));
                assertThat(new java.math.BigInteger(t.path("lastSerial").asString()))
                    .isGreaterThanOrEqualTo(serials.get(2));
                assertThat(Long.parseLong(t.path("count").asString())).isGreaterThanOrEqualTo(3);
              });
    } finally {
      cleanup.run();
    }
  }

  /** An HTTP/1.1 chunked body, decoded. */
  static String dechunk(String s) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (true) {
      int eol = s.indexOf("\r\n", i);
      int size = Integer.parseInt(s.substring(i, eol).split(";")[0].trim(), 16);
      if (size == 0) {
        return out.toString();
      }
      out.append(s, eol + 2, eol + 2 + size);
      i = eol + 2 + size + 2;
    }
  }

  /**
   * Graceful shutdown finishes a seal in flight and refuses new work: a client has sent half of a
   * PDF when the node is told to stop; new connections are refused from then on, the client sends
   * the rest and gets the whole sealed PDF, and after a restart the log holds that seal's
   * DOCUMENT_SEALED event.
   */
  @Test
  void aSealInFlightWhenTheNodeStopsIsFinishedAndNewRequestsAreRefused() throws Exception {
    java.nio.file.Path data = Files.createTempDirectory("yinxin-stop-seal-");
    String[] args = {"--server.port=0", "--yinxin.data-dir=" + data};
    ConfigurableApplicationContext ctx =
        new SpringApplicationBuilder(YinxinApplication.class).run(args);
    int port =
        ((org.springframework.boot.web.server.context.WebServerApplicationContext) ctx)
            .getWebServer()
            .getPort();
    tools.jackson.databind.JsonNode dev =
        tools.jackson.databind.json.JsonMapper.builder()
            .build()
            .readTree(Files.readString(data.resolve("dev.json")));
    byte[] pdf;
    try (org.apache.pdfbox.pdmodel.PDDocument doc = new org.apache.pdfbox.pdmodel.PDDocument()) {
      for (int i = 0; i < 20; i++) {
        doc.addPage(new org.apache.pdfbox.pdmodel.PDPage());
      }
      java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
      doc.save(b);
      pdf = b.toByteArray();
    }
    String head =
        "POST /sign/v1/seals/"
            + dev.path("demoSealId").asString()
            + "/sign?level=B-B HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + dev.path("sealToken").asString()
            + "\r\nContent-Type: application/pdf\r\nContent-Length: "
            + pdf.length
            + "\r\nConnection: close\r\n\r\n";
    java.util.concurrent.CompletableFuture<Void> stopped;
    byte[] answer;
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      s.setSoTimeout(60_000);
      var out = s.getOutputStream();
      out.write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.write(pdf, 0, pdf.length / 2);
      out.flush();
      Thread.sleep(300); // the request is being read
      stopped = java.util.concurrent.CompletableFuture.runAsync(ctx::close);
      // New connections are refused while the one in flight is finished.
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(10))
          .until(
              () -> {
                try (java.net.Socket other = new java.net.Socket()) {
                  other.connect(new java.net.InetSocketAddress("127.0.0.1", port), 500);
                  return false;
                } catch (java.io.IOException e) {
                  return true;
                }
              });
      assertThat(stopped).isNotDone();
      out.write(pdf, pdf.length / 2, pdf.length - pdf.length / 2);
      out.flush();
      answer = s.getInputStream().readAllBytes();
    }
    stopped.get(60, java.util.concurrent.TimeUnit.SECONDS);
    String text = new String(answer, java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(text).startsWith("HTTP/1.1 200");
    String headers = text.substring(0, text.indexOf("\r\n\r\n"));
    String body = text.substring(text.indexOf("\r\n\r\n") + 4);
    if (headers.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
      body = dechunk(body);
    }
    assertThat(body).startsWith("%PDF-");
    assertThat(body.stripTrailing()).endsWith("%%EOF");
    try (org.apache.pdfbox.pdmodel.PDDocument sealed =
        org.apache.pdfbox.Loader.loadPDF(
            body.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1))) {
      assertThat(sealed.getSignatureDictionaries()).hasSize(1);
    }

    ConfigurableApplicationContext again =
        new SpringApplicationBuilder(YinxinApplication.class).run(args);
    try (var c = again.getBean(io.yinxin.audit.store.LogStore.class).connection();
        var rs =
            c.createStatement()
                .executeQuery("SELECT count(*) FROM audit.events WHERE type = 'DOCUMENT_SEALED'")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(1);
    } finally {
      again.close();
    }
  }
}
