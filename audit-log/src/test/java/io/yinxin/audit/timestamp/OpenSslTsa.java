package io.yinxin.audit.timestamp;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * A real RFC 3161 time-stamp authority for tests: OpenSSL's ({@code openssl ts -reply}) behind a
 * small HTTP server on 127.0.0.1, with a fresh P-256 key and a self-signed certificate carrying the
 * critical timeStamping extended key usage. {@code tamper} may rewrite each query before OpenSSL
 * answers it (to make a TSA that stamps something else).
 */
public final class OpenSslTsa implements AutoCloseable {
  private final Path dir;
  private final HttpServer server;
  private volatile UnaryOperator<byte[]> tamper = UnaryOperator.identity();
  private volatile byte[] fixedReply;
  private final java.util.concurrent.atomic.AtomicInteger requests =
      new java.util.concurrent.atomic.AtomicInteger();

  public OpenSslTsa(String commonName) throws Exception {
    dir = Files.createTempDirectory("yinxin-tsa-");
    run(
        List.of(
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "tsa.key",
            "-out",
            "tsa.pem",
            "-days",
            "2",
            "-subj",
            "/CN=" + commonName,
            "-addext",
            "extendedKeyUsage=critical,timeStamping",
            "-addext",
            "keyUsage=critical,digitalSignature"));
    Files.writeString(dir.resolve("serial"), "01\n");
    Files.writeString(
        dir.resolve("tsa.cnf"),
        String.join(
            "\n",
            "[ tsa ]",
            "default_tsa = tsa1",
            "[ tsa1 ]",
            "dir = " + dir,
            "serial = $dir/serial",
            "crypto_device = builtin",
            "signer_cert = $dir/tsa.pem",
            "signer_key = $dir/tsa.key",
            "signer_digest = sha256",
            "default_policy = 1.3.6.1.4.1.99999.1",
            "digests = sha256, sha384, sha512",
            "accuracy = secs:1",
            "ordering = no",
            "tsa_name = yes",
            "ess_cert_id_chain = no",
            "ess_cert_id_alg = sha256",
            ""));
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/tsa", this::answer);
    server.start();
  }

  public URI url() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/tsa");
  }

  /** The TSA's certificate (PEM file). */
  public Path certificate() {
    return dir.resolve("tsa.pem");
  }

  /** Requests answered so far. */
  public int requests() {
    return requests.get();
  }

  public void tamperWith(UnaryOperator<byte[]> rewrite) {
    this.tamper = rewrite;
  }

  /** The reply of this TSA to a SHA-256 query over {@code data} (nonce, certReq). */
  public byte[] stamp(byte[] data) throws Exception {
    org.bouncycastle.tsp.TimeStampRequestGenerator gen =
        new org.bouncycastle.tsp.TimeStampRequestGenerator();
    gen.setCertReq(true);
    byte[] query =
        gen.generate(
                org.bouncycastle.tsp.TSPAlgorithms.SHA256,
                java.security.MessageDigest.getInstance("SHA-256").digest(data),
                java.math.BigInteger.valueOf(System.nanoTime()))
            .getEncoded();
    java.net.http.HttpResponse<byte[]> r =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(url())
                    .header("Content-Type", "application/timestamp-query")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(query))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new IOException("TSA answered " + r.statusCode());
    }
    return r.body();
  }

  /** {@code openssl ts -verify} of {@code reply} over {@code data}, trusting this TSA's cert. */
  public String verify(Path data, Path reply) throws Exception {
    return run(
        List.of(
            "openssl",
            "ts",
            "-verify",
            "-data",
            data.toString(),
            "-in",
            reply.toString(),
            "-CAfile",
            certificate().toString()));
  }

  /** From now on, answer every request with {@code reply} ({@code null}: ask OpenSSL again). */
  public void answerWith(byte[] reply) {
    this.fixedReply = reply == null ? null : reply.clone();
  }

  private synchronized void answer(HttpExchange ex) throws IOException {
    requests.incrementAndGet();
    try {
      if (!"POST".equals(ex.getRequestMethod())
          || !"application/timestamp-query"
              .equals(ex.getRequestHeaders().getFirst("Content-Type"))) {
        ex.sendResponseHeaders(400, -1);
        return;
      }
      byte[] body;
      byte[] fixed = fixedReply;
      if (fixed != null) {
        body = fixed;
      } else {
        Path query = dir.resolve("q.tsq");
        Path reply = dir.resolve("r.tsr");
        Files.write(query, tamper.apply(ex.getRequestBody().readAllBytes()));
        Files.deleteIfExists(reply);
        run(
            List.of(
                "openssl",
                "ts",
                "-reply",
                "-config",
                dir.resolve("tsa.cnf").toString(),
                "-queryfile",
                query.toString(),
                "-out",
                reply.toString()));
        body = Files.readAllBytes(reply);
      }
      ex.getResponseHeaders().set("Content-Type", "application/timestamp-reply");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    } catch (Exception e) {
      ex.sendResponseHeaders(500, -1);
    } finally {
      ex.close();
    }
  }

  private String run(List<String> command) throws Exception {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("openssl timed out");
    }
    if (p.exitValue() != 0 && !command.contains("-verify")) {
      throw new IOException("openssl failed: " + out);
    }
    return out;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
