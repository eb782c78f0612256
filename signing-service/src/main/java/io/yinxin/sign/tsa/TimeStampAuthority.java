package io.yinxin.sign.tsa;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.audit.KeyUseTally;
import io.yinxin.audit.TsaKeyUse;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.bridge.KeyServiceContentSigner;
import io.yinxin.sign.SignMetrics;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Date;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cmp.PKIFailureInfo;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.SignerInfoGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.TSPException;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampResponseGenerator;
import org.bouncycastle.tsp.TimeStampTokenGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An RFC 3161 time-stamping authority: a DER {@code TimeStampReq} in, a DER {@code TimeStampResp}
 * out. Bad requests are answered in the protocol (status {@code rejection} with a failure info), so
 * {@link #respond} never throws for anything a client sends:
 *
 * <ul>
 *   <li>anything that is not exactly one DER-encoded request (garbage, trailing bytes, BER length
 *       forms, a wrong imprint length): {@code badDataFormat};
 *   <li>an imprint algorithm other than SHA-256/384/512 (and SM3 when the TSA key is SM2, GB/T
 *       20520): {@code badAlg};
 *   <li>a requested policy other than the configured one: {@code unacceptedPolicy}; any request
 *       extension: {@code unacceptedExtension};
 *   <li>no TSA key configured, or the key backend failing: {@code systemFailure}.
 * </ul>
 *
 * <p>Tokens carry the nonce if asked, the TSA certificate chain if {@code certReq} is set, the
 * configured accuracy, a serial unique across nodes ({@link TsaSerials}) and a signing-certificate-
 * v2 attribute (ESSCertIDv2 with SHA-256, or SM3 for an SM2 key). Built on Bouncy Castle's TSP
 * generator; only the key stays in the key backend, through {@link KeyServiceContentSigner}.
 *
 * <p>Anyone may ask for a token, unauthenticated: one audit entry per token would let any client
 * grow the evidence log at will. The tokens each key signs are tallied instead (count, lowest and
 * highest serial) and recorded as one {@code KEY_USED} event per key and period ({@link
 * #recordKeyUse}, {@link TsaKeyUse}), as the OCSP responder does; the tokens themselves are signed
 * and carry their serial.
 */
public final class TimeStampAuthority implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TimeStampAuthority.class);

  private static final Set<ASN1ObjectIdentifier> SHA2 =
      Set.of(
          NISTObjectIdentifiers.id_sha256,
          NISTObjectIdentifiers.id_sha384,
          NISTObjectIdentifiers.id_sha512);
  private static final Set<ASN1ObjectIdentifier> SHA2_AND_SM3 =
      Set.of(
          NISTObjectIdentifiers.id_sha256,
          NISTObjectIdentifiers.id_sha384,
          NISTObjectIdentifiers.id_sha512,
          GMObjectIdentifiers.sm3);

  private final KeyService keys;
  private final TsaCredentials credentials;
  private final TsaSerials serials;
  private final ASN1ObjectIdentifier policy;
  private final Duration accuracy;
  private final Clock clock;
  private final AuditLog audit;

  /** A key and the algorithm it signed with. */
  private record Signer(KeyRef key, SignatureAlgorithm algorithm) {}

  /** Tokens signed since the last {@link #recordKeyUse}: how many, lowest and highest serial. */
  private final KeyUseTally<Signer> tally;

  public TimeStampAuthority(
      KeyService keys,
      TsaCredentials credentials,
      TsaSerials serials,
      String policyOid,
      Duration accuracy,
      Clock clock,
      AuditLog audit) {
    this.audit = audit;
    this.tally = new KeyUseTally<>(clock);
    this.keys = keys;
    this.credentials = credentials;
    this.serials = serials;
    this.policy = new ASN1ObjectIdentifier(policyOid);
    if (accuracy.isNegative() || accuracy.toMillis() > 3_600_000) {
      throw new IllegalArgumentException("TSA accuracy must be between 0 and 1 hour");
    }
    this.accuracy = accuracy;
    this.clock = clock;
  }

  /** The policy every token is issued under. */
  public String policy() {
    return policy.getId();
  }

  /** The TimeStampResp for one request; never throws for a bad request. */
  public byte[] respond(byte[] der) {
    TimeStampRequest request;
    try {
      request = new TimeStampRequest(der);
      if (!Arrays.equals(request.getEncoded(), der)) {
        SignMetrics.timestamp("rejected");
        return rejection(PKIFailureInfo.badDataFormat, "the request is not in DER");
      }
    } catch (IOException | RuntimeException e) {
      SignMetrics.timestamp("rejected");
      return rejection(PKIFailureInfo.badDataFormat, "the request is not a TimeStampReq");
    }
    // RFC 3161 §2.4.1 knows version 1 only (Bouncy Castle reads any and would stamp it).
    if (request.getVersion() != 1) {
      SignMetrics.timestamp("rejected");
      return rejection(PKIFailureInfo.badRequest, "the request's version is not 1");
    }
    // The imprint's hash takes no parameters: absent or NULL (RFC 5754 §2 for SHA-2, the same for
    // SM3). The token echoes the identifier as sent, so a value there would reach every reader.
    org.bouncycastle.asn1.ASN1Encodable params = request.getMessageImprintAlgID().getParameters();
    if (params != null && !org.bouncycastle.asn1.DERNull.INSTANCE.equals(params)) {
      SignMetrics.timestamp("rejected");
      return rejection(PKIFailureInfo.badAlg, "the imprint's hash algorithm takes no parameters");
    }
    // Extensions, when present, hold at least one (SIZE (1..MAX), RFC 5280 §4.1).
    if (request.hasExtensions() && request.getExtensionOIDs().isEmpty()) {
      SignMetrics.timestamp("rejected");
      return rejection(PKIFailureInfo.badDataFormat, "the request's extensions are empty");
    }
    // An SM3 imprint goes to the SM2 credential when there is one (GB/T 20520); anything else, and
    // SM3 without one, to the current credential, which refuses what it cannot stamp (badAlg).
    Optional<TsaCredential> found =
        GMObjectIdentifiers.sm3.equals(request.getMessageImprintAlgOID())
            ? credentials.sm2().or(credentials::current)
            : credentials.current();
    if (found.isEmpty()) {
      SignMetrics.timestamp("error");
      return rejection(PKIFailureInfo.systemFailure, "the TSA has no key configured");
    }
    TsaCredential cred = found.get();
    boolean sm2 = cred.algorithm() == SignatureAlgorithm.SM3_WITH_SM2;
    try {
      BigInteger serial = serials.next();
      KeyServiceContentSigner signer =
          KeyServiceContentSigner.recordedByCaller(
              keys, cred.key(), cred.algorithm(), TsaKeyUse.PURPOSE);
      SignerInfoGenerator sig =
          new JcaSignerInfoGeneratorBuilder(digests()).build(signer, cred.certificate());
      DigestCalculator essCertIdDigest =
          digests()
              .get(
                  new AlgorithmIdentifier(
                      sm2 ? GMObjectIdentifiers.sm3 : NISTObjectIdentifiers.id_sha256));
      TimeStampTokenGenerator tokens = new TimeStampTokenGenerator(sig, essCertIdDigest, policy);
      long millis = accuracy.toMillis();
      if (millis > 0) {
        tokens.setAccuracySeconds((int) (millis / 1000));
        tokens.setAccuracyMillis((int) (millis % 1000));
      }
      tokens.addCertificates(new JcaCertStore(cred.chain()));
      // The optional tsa field (RFC 3161 §2.4.2): names the signer for readers of the token.
      tokens.setTSA(new org.bouncycastle.asn1.x509.GeneralName(cred.certificate().getSubject()));
      TimeStampResponseGenerator responses =
          new TimeStampResponseGenerator(
              tokens, sm2 ? SHA2_AND_SM3 : SHA2, Set.of(policy), Set.of());
      TimeStampResponse response =
          responses.generateGrantedResponse(
              request, serial, Date.from(clock.instant()), "Operation Okay");
      byte[] granted = response.getEncoded();
      tally.count(new Signer(cred.key(), cred.algorithm()), serial);
      SignMetrics.timestamp("granted");
      return granted;
    } catch (org.bouncycastle.tsp.TSPValidationException e) {
      SignMetrics.timestamp("rejected");
      return rejection(e.getFailureCode(), e.getMessage());
    } catch (TSPException
        | OperatorCreationException
        | IOException
        | java.security.cert.CertificateEncodingException
        | RuntimeException e) {
      log.warn(
          "event=tsa_failed reason={} cause={}",
          e.getClass().getSimpleName(),
          e.getCause() == null ? "-" : e.getCause().getClass().getSimpleName());
      SignMetrics.timestamp("error");
      return rejection(PKIFailureInfo.systemFailure, "the TSA could not sign");
    }
  }

  /**
   * Records the tokens signed since the last call as one {@code KEY_USED} event per key ({@link
   * TsaKeyUse}: count, lowest and highest serial, period); call about once a minute and at
   * shutdown. A tally that cannot be appended is kept and recorded with the next.
   *
   * @return how many events were appended
   */
  public int recordKeyUse() {
    return tally.record(
        audit,
        (signer, w) ->
            new AuditEvent(
                EventType.KEY_USED,
                "signing-service",
                signer.key().toString(),
                w.to(),
                new TsaKeyUse(
                        signer.algorithm().name(),
                        w.count(),
                        w.first().orElseThrow(),
                        w.last().orElseThrow(),
                        w.from(),
                        w.to())
                    .attributes(),
                Optional.empty()),
        (signer, ex) ->
            log.warn("event=tsa_key_use_not_recorded reason={}", ex.getClass().getSimpleName()));
  }

  /** Records what is left of the tally. */
  @Override
  public void close() {
    recordKeyUse();
  }

  /** Digests from Bouncy Castle, which has SM3 (the JDK does not); stateless, built once. */
  private static final org.bouncycastle.operator.DigestCalculatorProvider DIGESTS = buildDigests();

  private static org.bouncycastle.operator.DigestCalculatorProvider buildDigests() {
    try {
      return new JcaDigestCalculatorProviderBuilder()
          .setProvider(io.yinxin.hsm.BouncyCastle.PROVIDER)
          .build();
    } catch (OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static org.bouncycastle.operator.DigestCalculatorProvider digests() {
    return DIGESTS;
  }

  private static byte[] rejection(int failInfo, String text) {
    try {
      return new TimeStampResponseGenerator(null, Set.of())
          .generateFailResponse(PKIStatus.REJECTION, failInfo, text)
          .getEncoded();
    } catch (IOException | TSPException e) {
      throw new IllegalStateException(e);
    }
  }
}
