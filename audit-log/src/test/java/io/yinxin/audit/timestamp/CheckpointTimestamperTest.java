package io.yinxin.audit.timestamp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.EventType;
import io.yinxin.audit.TsaKeyUse;
import io.yinxin.audit.store.CheckpointPublisher;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.audit.store.TileCache;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.io.Reader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Checkpoints time-stamped by a real RFC 3161 TSA (OpenSSL's), on PostgreSQL, with {@code openssl
 * ts -verify} as the outside judge; replies that do not cover the checkpoint, come from another TSA
 * or are not replies at all are refused and nothing is stored.
 */
class CheckpointTimestamperTest {
  private static OpenSslTsa tsa;
  private static OpenSslTsa otherTsa;
  private static LogStore store;
  private static Integrator integrator;
  private static CheckpointPublisher publisher;

  @BeforeAll
  static void start(@TempDir Path keys) throws Exception {
    tsa = new OpenSslTsa("Yinxin Test TSA");
    otherTsa = new OpenSslTsa("Some Other TSA");
    PostgresDatabase db = new PostgresDatabase();
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(db.url());
    ds.setUser(PostgresDatabase.USER);
    store = LogStore.open(ds);
    KeyServices ks = KeyServices.of(SoftKeyBackend.open(keys));
    ks.generate(KeyRef.Scheme.SOFT, KeySpec.ED25519, "tsa-test-checkpoint");
    publisher =
        new CheckpointPublisher(
            store,
            new TileCache(store, 1024),
            ks,
            KeyRef.soft("tsa-test-checkpoint"),
            "yinxin.test/tsa");
    integrator = new Integrator(store, 100, 1000);
  }

  @AfterAll
  static void stop() {
    integrator.close();
    tsa.close();
    otherTsa.close();
  }

  private static long newCheckpoint(String subject) {
    integrator.append(AuditEvent.of(EventType.KEY_USED, "test", subject, Map.of()));
    return publisher.publish();
  }

  private static X509CertificateHolder pem(Path file) throws Exception {
    try (Reader r = Files.newBufferedReader(file);
        PEMParser p = new PEMParser(r)) {
      return (X509CertificateHolder) p.readObject();
    }
  }

  private static CheckpointTimestamper stamperFor(OpenSslTsa server, Path trusted)
      throws Exception {
    return new CheckpointTimestamper(
        store, server.url(), Optional.of(pem(trusted)), Duration.ofSeconds(10));
  }

  private static Optional<byte[]> stored(long size) throws Exception {
    try (Connection c = store.connection()) {
      return store.timestamp(c, size);
    }
  }

  private static String note(long size) throws Exception {
    try (Connection c = store.connection()) {
      return store.checkpointAt(c, size).orElseThrow().note();
    }
  }

  @Test
  void aCheckpointIsTimeStampedOnceAndOpensslVerifiesTheReplyOverItsText(@TempDir Path dir)
      throws Exception {
    long size = newCheckpoint("stamped");
    Instant before = Instant.now().minusSeconds(5);
    Optional<Instant> genTime = stamperFor(tsa, tsa.certificate()).stamp(size);

    assertThat(genTime).isPresent();
    assertThat(genTime.get()).isAfter(before).isBefore(Instant.now().plusSeconds(5));
    byte[] reply = stored(size).orElseThrow();
    Path replyFile = Files.write(dir.resolve("checkpoint.tsr"), reply);
    Path noteFile = Files.writeString(dir.resolve("checkpoint.txt"), note(size));
    assertThat(tsa.verify(noteFile, replyFile)).contains("Verification: OK");
    // The token covers exactly this checkpoint: a changed tree size does not verify.
    String other = note(size).replaceFirst("\n" + size + "\n", "\n" + (size + 1) + "\n");
    Path otherFile = Files.writeString(dir.resolve("other.txt"), other);
    assertThat(tsa.verify(otherFile, replyFile)).contains("Verification: FAILED");

    // Stamping again asks nobody and keeps the first reply.
    assertThat(stamperFor(otherTsa, otherTsa.certificate()).stamp(size)).isEmpty();
    assertThat(stored(size).orElseThrow()).isEqualTo(reply);
  }

  /**
   * A TSA that records its key use in this log (as Yinxin's own does, {@link TsaKeyUse}) adds an
   * entry for the token it signed: stamping the checkpoint holding only that record would add the
   * next, without end. That checkpoint is left alone; a record of any other token, or any other
   * entry, is stamped.
   */
  @Test
  void aCheckpointAddingOnlyTheRecordOfItsOwnStampIsNotStampedAnythingElseIs() throws Exception {
    CheckpointTimestamper stamper = stamperFor(tsa, tsa.certificate());
    long first = newCheckpoint("before-the-record");
    assertThat(stamper.stamp(first)).isPresent();
    BigInteger serial = serialOfStamp(first);

    long recorded = recordTokens(1, serial, serial);
    assertThat(recorded).isEqualTo(first + 1);
    assertThat(stamper.stamp(recorded)).isEmpty();
    assertThat(stored(recorded)).isEmpty();

    // Its own token and another (a time-stamp someone asked for meanwhile): new evidence.
    long two = recordTokens(2, serial, serial.add(BigInteger.ONE));
    assertThat(stamper.stamp(two)).isPresent();
    // Another token alone (another node's stamp, another TSA's): new evidence.
    BigInteger own = serialOfStamp(two);
    long other = recordTokens(1, own.add(BigInteger.ONE), own.add(BigInteger.ONE));
    assertThat(stamper.stamp(other)).isPresent();

    // After that stamp, its record alone is skipped again; any other event is not.
    BigInteger last = serialOfStamp(other);
    long quiet = recordTokens(1, last, last);
    assertThat(stamper.stamp(quiet)).isEmpty();
    long busy = newCheckpoint("after-the-record");
    assertThat(busy).isEqualTo(quiet + 1);
    assertThat(stamper.stamp(busy)).isPresent();
  }

  /**
   * Every node stamps the newest checkpoint it sees. Two asking the TSA at once would each get a
   * token, each recorded by the TSA, and only one stored: the other's record would be new evidence
   * to stamp, for ever. Eight threads of two time-stampers (two nodes) ask at once: the TSA is
   * asked once, and one token is stored.
   */
  @Test
  void nodesStampingTheSameCheckpointAtOnceAskTheTsaOnce() throws Exception {
    long size = newCheckpoint("two-nodes");
    CheckpointTimestamper[] nodes = {
      stamperFor(tsa, tsa.certificate()), stamperFor(tsa, tsa.certificate())
    };
    int before = tsa.requests();
    java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(8);
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<Optional<Instant>>> results = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        CheckpointTimestamper node = nodes[i % 2];
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  return node.stamp(size);
                }));
      }
      int stamped = 0;
      for (var r : results) {
        stamped += r.get().isPresent() ? 1 : 0;
      }
      assertThat(stamped).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
    assertThat(tsa.requests() - before).isEqualTo(1);
    assertThat(stored(size)).isPresent();
  }

  private static BigInteger serialOfStamp(long size) throws Exception {
    return new TimeStampResponse(stored(size).orElseThrow())
        .getTimeStampToken()
        .getTimeStampInfo()
        .getSerialNumber();
  }

  /** A TSA's record of {@code count} tokens with serials from {@code first} to {@code last}. */
  private static long recordTokens(long count, BigInteger first, BigInteger last) {
    Instant now = Instant.now();
    integrator.append(
        AuditEvent.of(
            EventType.KEY_USED,
            "signing-service",
            "soft:tsa-test",
            new TsaKeyUse("ECDSA_SHA256", count, first, last, now.minusSeconds(60), now)
                .attributes()));
    return publisher.publish();
  }

  @Test
  void aTokenFromAnotherTsaThanTheConfiguredOneIsRefusedAndNothingIsStored() throws Exception {
    long size = newCheckpoint("wrong-tsa");
    assertThatThrownBy(() -> stamperFor(otherTsa, tsa.certificate()).stamp(size))
        .isInstanceOf(AuditException.class)
        .hasMessageContaining("not signed by the configured TSA certificate");
    assertThat(stored(size)).isEmpty();
  }

  @Test
  void aTokenOverOtherDataIsRefusedAndNothingIsStored() throws Exception {
    long size = newCheckpoint("other-imprint");
    try {
      // The TSA stamps another digest under the same nonce.
      tsa.tamperWith(
          query -> {
            try {
              TimeStampRequest original = new TimeStampRequest(query);
              TimeStampRequestGenerator gen = new TimeStampRequestGenerator();
              gen.setCertReq(true);
              byte[] digest =
                  MessageDigest.getInstance("SHA-256")
                      .digest("something else".getBytes(StandardCharsets.UTF_8));
              return gen.generate(TSPAlgorithms.SHA256, digest, original.getNonce()).getEncoded();
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
      assertThatThrownBy(() -> stamperFor(tsa, tsa.certificate()).stamp(size))
          .isInstanceOf(AuditException.class)
          .hasMessageContaining("not a valid time-stamp for this checkpoint");
    } finally {
      tsa.tamperWith(q -> q);
    }
    assertThat(stored(size)).isEmpty();
  }

  @Test
  void garbageAndErrorAnswersAreRefusedAndNothingIsStored() throws Exception {
    long size = newCheckpoint("garbage");
    try (OpenSslTsa broken = new OpenSslTsa("Broken TSA")) {
      broken.answerWith("<html>not a reply</html>".getBytes(StandardCharsets.UTF_8));
      assertThatThrownBy(() -> stamperFor(broken, broken.certificate()).stamp(size))
          .isInstanceOf(AuditException.class)
          .hasMessageContaining("not a valid time-stamp");
      broken.tamperWith(
          q -> {
            throw new IllegalStateException("TSA down");
          });
      broken.answerWith(null);
      assertThatThrownBy(() -> stamperFor(broken, broken.certificate()).stamp(size))
          .isInstanceOf(AuditException.class)
          .hasMessageContaining("answered HTTP 500");
    }
    assertThat(stored(size)).isEmpty();
  }

  @Test
  void aSizeWithoutCheckpointIsNotFound() {
    assertThatThrownBy(() -> stamperFor(tsa, tsa.certificate()).stamp(1L << 40))
        .isInstanceOf(AuditException.class)
        .extracting(e -> ((AuditException) e).code())
        .isEqualTo(AuditException.Code.NOT_FOUND);
  }

  @Test
  void theTsaUrlMustBeHttpWithoutCredentials() {
    assertThatThrownBy(
            () ->
                new CheckpointTimestamper(
                    store,
                    java.net.URI.create("file:///etc/passwd"),
                    Optional.empty(),
                    Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http or https");
    assertThatThrownBy(
            () ->
                new CheckpointTimestamper(
                    store,
                    java.net.URI.create("https://user:secret@tsa.example/tsr"),
                    Optional.empty(),
                    Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must not carry credentials")
        .hasMessageNotContaining("secret");
  }
}
