package io.yinxin.audit.timestamp;

import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.EventType;
import io.yinxin.audit.TsaKeyUse;
import io.yinxin.audit.evidence.Json;
import io.yinxin.audit.store.LogStore;
import io.yinxin.hsm.BouncyCastle;
import io.yinxin.hsm.Randomness;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TSPException;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives checkpoints trusted time: asks an RFC 3161 time-stamp authority for a token over a signed
 * checkpoint (SHA-256 of the note text exactly as stored and served at {@code
 * /audit/v1/checkpoints/<size>}), checks the reply, and stores it beside the checkpoint.
 *
 * <p>A reply is stored only if it grants a token for this very request (same imprint, same nonce),
 * the token's signature verifies with the certificate it names, that certificate is valid at the
 * token's time and carries the critical timeStamping extended key usage, and — when a TSA
 * certificate is configured — the signer is that certificate or one it issued. Anything else is
 * refused with nothing stored.
 */
public final class CheckpointTimestamper {
  private static final Logger log = LoggerFactory.getLogger(CheckpointTimestamper.class);

  /** Largest reply read from a TSA; real ones are a few KiB. */
  static final int MAX_REPLY = 64 * 1024;

  private final LogStore store;
  private final URI tsa;
  private final Optional<X509CertificateHolder> trusted;
  private final Duration timeout;
  private final HttpClient http;

  /**
   * @param tsa the TSA's URL (RFC 3161 over HTTP: POST application/timestamp-query)
   * @param trusted the TSA certificate, or the CA certificate that issues it, replies must chain to
   */
  public CheckpointTimestamper(
      LogStore store, URI tsa, Optional<X509CertificateHolder> trusted, Duration timeout) {
    String scheme = String.valueOf(tsa.getScheme());
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException("the TSA URL must be http or https");
    }
    if (tsa.getRawUserInfo() != null) {
      // It would be stored with every time-stamp and appear in logs.
      throw new IllegalArgumentException("the TSA URL must not carry credentials");
    }
    this.store = store;
    this.tsa = tsa;
    this.trusted = trusted;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  /**
   * Time-stamps the checkpoint of {@code size} unless it already has a token, or another node is
   * asking the TSA right now, or it adds nothing but the TSA's record of the previous stamp. The
   * transaction that stores the token holds the time-stamping lock ({@link
   * LogStore#tryLockTimestamping}) from before the check to after the commit, a connection for as
   * long as the TSA takes to answer.
   *
   * @return the token's time, or empty if nothing was stamped
   * @throws AuditException NOT_FOUND for a size without checkpoint, UNAVAILABLE when the TSA cannot
   *     be reached or its reply is refused
   */
  public Optional<Instant> stamp(long size) {
    try (Connection c = store.connection()) {
      c.setAutoCommit(false);
      try {
        Optional<Instant> genTime = stamp(c, size);
        if (genTime.isPresent()) {
          store.commitDurably(c);
          log.info("event=audit_checkpoint_timestamped size={} gen_time={}", size, genTime.get());
        } else {
          c.rollback();
        }
        return genTime;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new AuditException(Code.UNAVAILABLE, "audit store: " + e.getSQLState(), e);
    }
  }

  private Optional<Instant> stamp(Connection c, long size) throws SQLException {
    if (!store.tryLockTimestamping(c) || store.timestamp(c, size).isPresent()) {
      return Optional.empty();
    }
    String note =
        store
            .checkpointAt(c, size)
            .orElseThrow(() -> new AuditException(Code.NOT_FOUND, "no checkpoint of size " + size))
            .note();
    if (addsOnlyTheRecordOfItsStamp(c, size)) {
      log.debug("event=audit_timestamp_skipped size={} reason=only_the_tsa_record", size);
      return Optional.empty();
    }
    TimeStampRequestGenerator gen = new TimeStampRequestGenerator();
    gen.setCertReq(true);
    TimeStampRequest request =
        gen.generate(
            TSPAlgorithms.SHA256,
            sha256(note.getBytes(StandardCharsets.UTF_8)),
            new BigInteger(63, Randomness.current()));
    byte[] reply = post(request);
    Instant genTime = check(request, reply);
    return store.insertTimestamp(c, size, reply, genTime, tsa.toString())
        ? Optional.of(genTime)
        : Optional.empty();
  }

  /** More entries than this after a time-stamped checkpoint are never only its stamp's record. */
  private static final int STAMP_RECORDS = 4;

  /**
   * Whether the checkpoint of {@code size} adds to the newest time-stamped one below it nothing but
   * the TSA's record of that very stamp. A TSA that records its key use in this log (the node's
   * own, the embedded default) appends a {@code KEY_USED} entry for its tokens ({@link TsaKeyUse}):
   * stamping the checkpoint that holds the record of the last stamp alone would lead to another
   * such record, and so on for ever on a node nobody uses. Such a checkpoint is left unstamped; the
   * next entry of anything else is stamped with it. The token's serial identifies the record, so
   * another node's stamp, another TSA's or any other event counts as new and is stamped.
   */
  private boolean addsOnlyTheRecordOfItsStamp(Connection c, long size) throws SQLException {
    Optional<LogStore.TimestampedCheckpoint> last = store.latestTimestamped(c, size - 1);
    if (last.isEmpty() || size - last.get().checkpoint().size() > STAMP_RECORDS) {
      return false;
    }
    BigInteger serial;
    try {
      serial =
          new TimeStampResponse(last.get().reply())
              .getTimeStampToken()
              .getTimeStampInfo()
              .getSerialNumber();
    } catch (TSPException | IOException | RuntimeException e) {
      return false;
    }
    for (LogStore.StoredEvent e : store.eventsBetween(c, last.get().checkpoint().size(), size)) {
      if (e.event() == null || !recordsOnlyToken(e.event(), serial)) {
        return false;
      }
    }
    return true;
  }

  private static boolean recordsOnlyToken(String event, BigInteger serial) {
    return Json.parse(event) instanceof Map<?, ?> ev
        && EventType.KEY_USED.name().equals(ev.get("type"))
        && ev.get("attributes") instanceof Map<?, ?> attributes
        && TsaKeyUse.of(attributes).filter(u -> u.onlyToken(serial)).isPresent();
  }

  private byte[] post(TimeStampRequest request) {
    try {
      HttpResponse<InputStream> r =
          http.send(
              HttpRequest.newBuilder(tsa)
                  .timeout(timeout)
                  .header("Content-Type", "application/timestamp-query")
                  .header("Accept", "application/timestamp-reply")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(request.getEncoded()))
                  .build(),
              HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = r.body()) {
        if (r.statusCode() != 200) {
          throw refused("answered HTTP " + r.statusCode());
        }
        byte[] body = in.readNBytes(MAX_REPLY + 1);
        if (body.length > MAX_REPLY) {
          throw refused("reply is larger than " + MAX_REPLY + " bytes");
        }
        return body;
      }
    } catch (IOException e) {
      throw new AuditException(Code.UNAVAILABLE, "time-stamp authority unreachable", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AuditException(
          Code.UNAVAILABLE, "interrupted waiting for the time-stamp authority");
    }
  }

  /** Checks a TSA reply against its request; returns the token's time. */
  Instant check(TimeStampRequest request, byte[] reply) {
    try {
      TimeStampResponse response = new TimeStampResponse(reply);
      // Status granted, a token present, same imprint, nonce and (certReq) a certificate.
      response.validate(request);
      TimeStampToken token = response.getTimeStampToken();
      X509CertificateHolder signer = signerOf(token);
      // Checks the signature, the ESS certificate ID, the critical timeStamping EKU and that the
      // certificate is valid at the token's time.
      token.validate(
          new JcaSimpleSignerInfoVerifierBuilder()
              .setProvider(BouncyCastle.PROVIDER)
              .build(signer));
      if (trusted.isPresent() && !issuedByOrEqual(signer, trusted.get())) {
        throw refused("token is not signed by the configured TSA certificate");
      }
      return token.getTimeStampInfo().getGenTime().toInstant();
    } catch (TSPException | IOException | IllegalArgumentException e) {
      throw refused("reply is not a valid time-stamp for this checkpoint (" + reason(e) + ")");
    } catch (org.bouncycastle.operator.OperatorCreationException
        | java.security.cert.CertificateException e) {
      throw refused("token certificate is unusable");
    }
  }

  private static X509CertificateHolder signerOf(TimeStampToken token) throws TSPException {
    @SuppressWarnings("unchecked")
    Collection<X509CertificateHolder> matches = token.getCertificates().getMatches(token.getSID());
    if (matches.isEmpty()) {
      throw new TSPException("token carries no signer certificate");
    }
    return matches.iterator().next();
  }

  private static boolean issuedByOrEqual(X509CertificateHolder cert, X509CertificateHolder ca) {
    if (cert.equals(ca)) {
      return true;
    }
    try {
      var caCert = new JcaX509CertificateConverter().getCertificate(ca);
      return cert.getIssuer().equals(ca.getSubject())
          && cert.isSignatureValid(
              new JcaContentVerifierProviderBuilder()
                  .setProvider(BouncyCastle.PROVIDER)
                  .build(caCert.getPublicKey()));
    } catch (Exception e) {
      return false;
    }
  }

  private static String reason(Exception e) {
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m;
  }

  private static AuditException refused(String why) {
    return new AuditException(Code.UNAVAILABLE, "time-stamp authority: " + why);
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
