package io.yinxin.sign.tsa;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.EventType;
import io.yinxin.audit.Receipt;
import io.yinxin.audit.spring.KeyUseAuditListener;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.hsm.BouncyCastle;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.hsm.testing.OpenSsl;
import io.yinxin.sign.spring.SignSchema;
import io.yinxin.sign.testing.TestPki;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.cmp.PKIFailureInfo;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.tsp.MessageImprint;
import org.bouncycastle.asn1.tsp.TimeStampReq;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampToken;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The TSA judged by openssl ({@code openssl ts -verify}) and Bouncy Castle's token validation, and
 * every kind of bad request answered in the protocol with the right failure info.
 */
class TimeStampAuthorityTest {
  private static final String POLICY = "2.25.151273881000609895990087799822618610281";

  @TempDir static Path dir;
  static KeyServices keys;
  static TestPki pki;
  static KeyInfo tsaKey;
  static X509CertificateHolder tsaCert;
  static TimeStampAuthority tsa;

  @BeforeAll
  static void setUp() throws Exception {
    keys = KeyServices.of(SoftKeyBackend.open(dir.resolve("keys")));
    tsaKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "tsa");
    pki = new TestPki("C=CN,O=Test,CN=Test Root");
    tsaCert = pki.tsa(keys, tsaKey, "C=CN,O=Test,CN=Test TSA");
    TsaCredential cred =
        new TsaCredential(
            tsaKey.ref(), SignatureAlgorithm.ECDSA_SHA256, List.of(tsaCert, pki.root));
    tsa =
        new TimeStampAuthority(
            keys,
            () -> Optional.of(cred),
            new TsaSerials(h2("tsa")),
            POLICY,
            Duration.ofMillis(1500),
            Clock.systemUTC(),
            TimeStampAuthorityTest::record);
    TestPki.writePem(dir.resolve("root.pem"), pki.root);
    TestPki.writePem(dir.resolve("tsa.pem"), tsaCert);
  }

  /** What the TSAs here appended to the evidence log, in order (an AuditLog that keeps them). */
  static final List<AuditEvent> RECORDED = new CopyOnWriteArrayList<>();

  static Receipt record(AuditEvent e) {
    RECORDED.add(e);
    return new Receipt(RECORDED.size() - 1, new byte[32]);
  }

  /**
   * Anyone may ask for tokens: the key's uses are one KEY_USED event per period with the count and
   * serial range of the tokens (read back from the tokens themselves), not one per token, even with
   * the audit listener that records every other key use on.
   */
  @Test
  void tokensAreRecordedAsOneTallyPerKeyNotOneEventPerToken() throws Exception {
    KeyServices audited =
        new KeyServices(
            List.of(SoftKeyBackend.open(dir.resolve("tally-keys"))),
            List.of(
                new KeyUseAuditListener(() -> TimeStampAuthorityTest::record, Optional.empty())));
    KeyInfo key = audited.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "tally-tsa");
    X509CertificateHolder cert = pki.tsa(audited, key, "C=CN,O=Test,CN=Tally TSA");
    AtomicBoolean logDown = new AtomicBoolean();
    TimeStampAuthority tallying =
        new TimeStampAuthority(
            audited,
            () ->
                Optional.of(
                    new TsaCredential(
                        key.ref(), SignatureAlgorithm.ECDSA_SHA256, List.of(cert, pki.root))),
            new TsaSerials(h2("tally")),
            POLICY,
            Duration.ZERO,
            Clock.systemUTC(),
            e -> {
              if (logDown.get()) {
                throw new AuditException(AuditException.Code.UNAVAILABLE, "log down");
              }
              return record(e);
            });
    Instant before = Instant.now();
    List<BigInteger> serials = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      byte[] reply =
          tallying.respond(
              request(NISTObjectIdentifiers.id_sha256, sha256("tally " + i), false, null));
      serials.add(
          new TimeStampResponse(reply).getTimeStampToken().getTimeStampInfo().getSerialNumber());
    }
    assertThat(keyUses(key)).isEmpty();

    assertThat(tallying.recordKeyUse()).isEqualTo(1);
    List<AuditEvent> uses = keyUses(key);
    assertThat(uses).hasSize(1);
    AuditEvent use = uses.get(0);
    assertThat(use.attributes())
        .containsEntry("operation", "SIGN")
        .containsEntry("purpose", "rfc3161-timestamp")
        .containsEntry("algorithm", "ECDSA_SHA256")
        .containsEntry("count", "5")
        .containsEntry("firstSerial", serials.stream().min(BigInteger::compareTo).get().toString())
        .containsEntry("lastSerial", serials.stream().max(BigInteger::compareTo).get().toString());
    assertThat(Instant.parse(use.attributes().get("from"))).isBeforeOrEqualTo(before);
    assertThat(Instant.parse(use.attributes().get("to"))).isAfterOrEqualTo(before);
    assertThat(tallying.recordKeyUse()).isZero();

    // A tally the log does not take is kept and recorded with the next one.
    tallying.respond(request(NISTObjectIdentifiers.id_sha256, sha256("kept"), false, null));
    logDown.set(true);
    assertThat(tallying.recordKeyUse()).isZero();
    logDown.set(false);
    tallying.respond(request(NISTObjectIdentifiers.id_sha256, sha256("next"), false, null));
    tallying.close();
    assertThat(keyUses(key)).hasSize(2);
    assertThat(keyUses(key).get(1).attributes()).containsEntry("count", "2");
  }

  private static List<AuditEvent> keyUses(KeyInfo key) {
    return RECORDED.stream()
        .filter(e -> e.type() == EventType.KEY_USED && e.subject().equals(key.ref().toString()))
        .toList();
  }

  static DataSource h2(String name) {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:" + name + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1");
    SignSchema.migrate(ds);
    return ds;
  }

  private static byte[] request(
      ASN1ObjectIdentifier alg, byte[] imprint, boolean certReq, BigInteger nonce)
      throws Exception {
    TimeStampRequestGenerator g = new TimeStampRequestGenerator();
    g.setCertReq(certReq);
    return g.generate(alg, imprint, nonce).getEncoded();
  }

  private static byte[] sha256(String s) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
  }

  private static TimeStampResponse answer(byte[] request) throws Exception {
    TimeStampResponse r = new TimeStampResponse(tsa.respond(request));
    return r;
  }

  private static void assertRejected(byte[] request, int failInfo) throws Exception {
    TimeStampResponse r = answer(request);
    assertThat(r.getStatus()).isEqualTo(PKIStatus.REJECTION);
    assertThat(r.getFailInfo().intValue()).isEqualTo(failInfo);
    assertThat(r.getTimeStampToken()).isNull();
  }

  @Test
  void opensslVerifiesATokenForItsQueryAgainstTheRootAndRefusesOtherData() throws Exception {
    Files.writeString(dir.resolve("data.txt"), "contract 2026-118");
    Files.writeString(dir.resolve("other.txt"), "contract 2026-119");
    OpenSsl.Result q =
        OpenSsl.run(dir, "ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", "q.tsq");
    assertThat(q.exitCode()).as(q.output()).isZero();
    Files.write(dir.resolve("r.tsr"), tsa.respond(Files.readAllBytes(dir.resolve("q.tsq"))));

    OpenSsl.Result ok =
        OpenSsl.run(
            dir, "ts", "-verify", "-queryfile", "q.tsq", "-in", "r.tsr", "-CAfile", "root.pem");
    assertThat(ok.output()).contains("Verification: OK");
    assertThat(ok.exitCode()).isZero();

    OpenSsl.Result other =
        OpenSsl.run(
            dir, "ts", "-verify", "-data", "other.txt", "-in", "r.tsr", "-CAfile", "root.pem");
    assertThat(other.output()).doesNotContain("Verification: OK");
    assertThat(other.exitCode()).isNotZero();

    OpenSsl.Result text = OpenSsl.run(dir, "ts", "-reply", "-in", "r.tsr", "-text");
    assertThat(text.output())
        .contains("Status: Granted")
        .contains("Policy OID: " + POLICY)
        .containsPattern("Accuracy: 0x01 seconds, (0x0*1F4|500) millis")
        .containsPattern("Nonce: 0x[0-9A-F]+");
  }

  @Test
  void sha384AndSha512ImprintsAreGranted() throws Exception {
    for (var alg : List.of(NISTObjectIdentifiers.id_sha384, NISTObjectIdentifiers.id_sha512)) {
      int len = alg.equals(NISTObjectIdentifiers.id_sha384) ? 48 : 64;
      TimeStampResponse r = answer(request(alg, new byte[len], false, BigInteger.TEN));
      assertThat(r.getStatus()).as(alg.getId()).isEqualTo(PKIStatus.GRANTED);
      assertThat(r.getTimeStampToken().getTimeStampInfo().getMessageImprintAlgOID()).isEqualTo(alg);
    }
  }

  @Test
  void theTokenEchoesTheNonceSignsWithTheTsaKeyAndCarriesTheChainOnlyWhenAsked() throws Exception {
    BigInteger nonce = new BigInteger(64, new java.security.SecureRandom());
    byte[] imprint = sha256("hello");
    Instant before = Instant.now().minusSeconds(1);
    TimeStampRequest req =
        new TimeStampRequest(request(NISTObjectIdentifiers.id_sha256, imprint, true, nonce));
    TimeStampResponse r = answer(req.getEncoded());
    r.validate(req); // Bouncy Castle's check that the reply answers this request
    TimeStampToken token = r.getTimeStampToken();
    token.validate(
        new JcaSimpleSignerInfoVerifierBuilder()
            .setProvider(BouncyCastle.PROVIDER)
            .build(tsaCert)); // signature, and the signing-certificate-v2 hash of tsaCert
    assertThat(token.getTimeStampInfo().getNonce()).isEqualTo(nonce);
    assertThat(token.getTimeStampInfo().getMessageImprintDigest()).isEqualTo(imprint);
    assertThat(token.getTimeStampInfo().getPolicy().getId()).isEqualTo(POLICY);
    assertThat(token.getTimeStampInfo().getSerialNumber()).isPositive();
    assertThat(token.getTimeStampInfo().getGenTime().toInstant())
        .isBetween(before, Instant.now().plusSeconds(1));
    assertThat(token.getCertificates().getMatches(null))
        .containsExactlyInAnyOrder(tsaCert, pki.root);

    TimeStampToken bare =
        answer(request(NISTObjectIdentifiers.id_sha256, imprint, false, null)).getTimeStampToken();
    assertThat(bare.getCertificates().getMatches(null)).isEmpty();
    assertThat(bare.getTimeStampInfo().getNonce()).isNull();
    assertThat(bare.getTimeStampInfo().getSerialNumber())
        .isNotEqualTo(token.getTimeStampInfo().getSerialNumber());
  }

  @Test
  void imprintsOtherThanSha2AreRejectedWithBadAlg() throws Exception {
    assertRejected(
        request(OIWObjectIdentifiers.idSHA1, new byte[20], false, null), PKIFailureInfo.badAlg);
    assertRejected(
        request(PKCSObjectIdentifiers.md5, new byte[16], false, null), PKIFailureInfo.badAlg);
    // SM3 belongs to an SM2 TSA (GB/T 20520); this one signs with ECDSA.
    assertRejected(
        request(GMObjectIdentifiers.sm3, new byte[32], false, null), PKIFailureInfo.badAlg);
  }

  @Test
  void garbageTruncatedAndNonDerRequestsAreRejectedWithBadDataFormat() throws Exception {
    byte[] good = request(NISTObjectIdentifiers.id_sha256, sha256("x"), true, BigInteger.ONE);
    assertThat(answer(good).getStatus()).isEqualTo(PKIStatus.GRANTED);

    assertRejected(new byte[0], PKIFailureInfo.badDataFormat);
    assertRejected(
        "not a request".getBytes(StandardCharsets.US_ASCII), PKIFailureInfo.badDataFormat);
    assertRejected(Arrays.copyOf(good, good.length - 3), PKIFailureInfo.badDataFormat);
    byte[] trailing = Arrays.copyOf(good, good.length + 1);
    assertRejected(trailing, PKIFailureInfo.badDataFormat);
    // The same request with its outer length in BER long form: one value, two encodings.
    assertThat(good[1] & 0xff).isLessThan(0x80);
    byte[] ber = new byte[good.length + 1];
    ber[0] = good[0];
    ber[1] = (byte) 0x81;
    System.arraycopy(good, 1, ber, 2, good.length - 1);
    assertRejected(ber, PKIFailureInfo.badDataFormat);
    // A SHA-256 imprint of 31 bytes.
    assertRejected(
        request(NISTObjectIdentifiers.id_sha256, new byte[31], false, null),
        PKIFailureInfo.badDataFormat);
    // Version 2 (RFC 3161 knows v1 only): the good request with its version INTEGER changed.
    assertThat(Arrays.copyOfRange(good, 2, 5)).containsExactly(0x02, 0x01, 0x01);
    byte[] v2 = good.clone();
    v2[4] = 2;
    assertRejected(v2, PKIFailureInfo.badRequest);
  }

  /**
   * One imprint, one encoding of its algorithm: SHA-256 with parameters absent or NULL is granted
   * (RFC 5754 §2), with any other value refused; an extensions field holding none is not Extensions
   * (SIZE (1..MAX)). Both were granted, the token echoing the parameters.
   */
  @Test
  void aHashWithParametersOrAnEmptyExtensionsFieldIsRefused() throws Exception {
    for (var params :
        java.util.Arrays.<org.bouncycastle.asn1.ASN1Encodable>asList(
            null, org.bouncycastle.asn1.DERNull.INSTANCE)) {
      assertThat(answer(sha256Request(params)).getStatus())
          .as(String.valueOf(params))
          .isEqualTo(PKIStatus.GRANTED);
    }
    for (var params :
        List.<org.bouncycastle.asn1.ASN1Encodable>of(
            new ASN1Integer(5),
            new DEROctetString(new byte[0]),
            new org.bouncycastle.asn1.DERSequence())) {
      assertRejected(sha256Request(params), PKIFailureInfo.badAlg);
    }
    // [0] with no Extension inside, written by hand (Bouncy Castle writes no empty Extensions).
    byte[] bare = sha256Request(null);
    assertThat(bare[1] & 0xff).isLessThan(0x7e);
    byte[] empty = Arrays.copyOf(bare, bare.length + 2);
    empty[1] = (byte) (bare[1] + 2);
    empty[bare.length] = (byte) 0xa0;
    empty[bare.length + 1] = 0;
    assertRejected(empty, PKIFailureInfo.badDataFormat);
  }

  /** A DER request for a SHA-256 imprint whose algorithm carries these parameters (null: none). */
  private static byte[] sha256Request(org.bouncycastle.asn1.ASN1Encodable params) throws Exception {
    return new TimeStampReq(
            new MessageImprint(
                new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256, params),
                sha256("contract")),
            null,
            null,
            null,
            null)
        .getEncoded(ASN1Encoding.DER);
  }

  @Test
  void anotherPolicyOrAnyExtensionIsRefused() throws Exception {
    TimeStampRequestGenerator g = new TimeStampRequestGenerator();
    g.setReqPolicy(new ASN1ObjectIdentifier("1.2.3.4"));
    assertRejected(
        g.generate(NISTObjectIdentifiers.id_sha256, new byte[32]).getEncoded(),
        PKIFailureInfo.unacceptedPolicy);

    TimeStampRequestGenerator ours = new TimeStampRequestGenerator();
    ours.setReqPolicy(new ASN1ObjectIdentifier(POLICY));
    assertThat(
            answer(ours.generate(NISTObjectIdentifiers.id_sha256, new byte[32]).getEncoded())
                .getStatus())
        .isEqualTo(PKIStatus.GRANTED);

    TimeStampRequestGenerator ext = new TimeStampRequestGenerator();
    ext.addExtension(new ASN1ObjectIdentifier("1.2.3.5"), false, new DEROctetString(new byte[1]));
    assertRejected(
        ext.generate(NISTObjectIdentifiers.id_sha256, new byte[32]).getEncoded(),
        PKIFailureInfo.unacceptedExtension);
  }

  @Test
  void withoutAKeyEveryRequestIsAnsweredWithSystemFailure() throws Exception {
    TimeStampAuthority none =
        new TimeStampAuthority(
            keys,
            Optional::empty,
            new TsaSerials(h2("none")),
            POLICY,
            Duration.ZERO,
            Clock.systemUTC(),
            TimeStampAuthorityTest::record);
    TimeStampResponse r =
        new TimeStampResponse(
            none.respond(request(NISTObjectIdentifiers.id_sha256, new byte[32], false, null)));
    assertThat(r.getStatus()).isEqualTo(PKIStatus.REJECTION);
    assertThat(r.getFailInfo().intValue()).isEqualTo(PKIFailureInfo.systemFailure);
  }

  @Test
  void anSm2TsaStampsSm3Imprints() throws Exception {
    KeyInfo sm2 = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "tsa-sm2");
    X509CertificateHolder cert = TestPki.selfSigned(keys, sm2, "C=CN,O=Test,CN=Test SM2 TSA");
    TimeStampAuthority sm2Tsa =
        new TimeStampAuthority(
            keys,
            () ->
                Optional.of(
                    new TsaCredential(sm2.ref(), SignatureAlgorithm.SM3_WITH_SM2, List.of(cert))),
            new TsaSerials(h2("sm2")),
            POLICY,
            Duration.ofSeconds(1),
            Clock.systemUTC(),
            TimeStampAuthorityTest::record);
    byte[] imprint = sm3("GB/T 20520");
    TimeStampRequest req =
        new TimeStampRequest(request(GMObjectIdentifiers.sm3, imprint, true, BigInteger.TWO));
    TimeStampResponse r = new TimeStampResponse(sm2Tsa.respond(req.getEncoded()));
    assertThat(r.getStatus()).isEqualTo(PKIStatus.GRANTED);
    r.validate(req);
    TimeStampToken token = r.getTimeStampToken();
    token.validate(
        new JcaSimpleSignerInfoVerifierBuilder().setProvider(BouncyCastle.PROVIDER).build(cert));
    assertThat(token.getTimeStampInfo().getMessageImprintAlgOID())
        .isEqualTo(GMObjectIdentifiers.sm3);
    assertThat(token.getSignedAttributes()).isNotNull();
  }

  @Test
  void aTsaWithBothKeysStampsSm3ImprintsWithSm2AndSha256ImprintsWithEcdsa() throws Exception {
    KeyInfo sm2 = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "tsa-sm2-pair");
    X509CertificateHolder sm2Cert = pki.tsa(keys, sm2, "C=CN,O=Test,CN=Test SM2 TSA 2");
    TsaCredential ecdsa =
        new TsaCredential(
            tsaKey.ref(), SignatureAlgorithm.ECDSA_SHA256, List.of(tsaCert, pki.root));
    TsaCredential national =
        new TsaCredential(sm2.ref(), SignatureAlgorithm.SM3_WITH_SM2, List.of(sm2Cert, pki.root));
    TimeStampAuthority both =
        new TimeStampAuthority(
            keys,
            new io.yinxin.sign.tsa.TsaCredentials() {
              @Override
              public Optional<TsaCredential> current() {
                return Optional.of(ecdsa);
              }

              @Override
              public Optional<TsaCredential> sm2() {
                return Optional.of(national);
              }
            },
            new TsaSerials(h2("both")),
            POLICY,
            Duration.ofSeconds(1),
            Clock.systemUTC(),
            TimeStampAuthorityTest::record);
    var verifier = new JcaSimpleSignerInfoVerifierBuilder().setProvider(BouncyCastle.PROVIDER);

    TimeStampRequest sm3Req =
        new TimeStampRequest(request(GMObjectIdentifiers.sm3, sm3("国密"), true, BigInteger.ONE));
    TimeStampResponse r = new TimeStampResponse(both.respond(sm3Req.getEncoded()));
    assertThat(r.getStatus()).isEqualTo(PKIStatus.GRANTED);
    r.validate(sm3Req);
    r.getTimeStampToken().validate(verifier.build(sm2Cert));
    assertThat(r.getTimeStampToken().getSID().getSerialNumber())
        .isEqualTo(sm2Cert.getSerialNumber());
    assertThat(
            r.getTimeStampToken()
                .toCMSSignedData()
                .getSignerInfos()
                .iterator()
                .next()
                .getEncryptionAlgOID())
        .isEqualTo("1.2.156.10197.1.501");

    TimeStampRequest shaReq =
        new TimeStampRequest(
            request(NISTObjectIdentifiers.id_sha256, sha256("ECDSA"), true, BigInteger.TEN));
    TimeStampResponse e = new TimeStampResponse(both.respond(shaReq.getEncoded()));
    assertThat(e.getStatus()).isEqualTo(PKIStatus.GRANTED);
    e.getTimeStampToken().validate(verifier.build(tsaCert));
    assertThat(e.getTimeStampToken().getSID().getSerialNumber())
        .isEqualTo(tsaCert.getSerialNumber());
  }

  private static byte[] sm3(String s) {
    org.bouncycastle.crypto.digests.SM3Digest d = new org.bouncycastle.crypto.digests.SM3Digest();
    byte[] in = s.getBytes(StandardCharsets.UTF_8);
    d.update(in, 0, in.length);
    byte[] out = new byte[32];
    d.doFinal(out, 0);
    return out;
  }

  @Test
  void serialNumbersAreUniqueAcrossTwoNodesSharingPostgresql() throws Exception {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(new PostgresDatabase().url());
    ds.setUser(PostgresDatabase.USER);
    SignSchema.migrate(ds);
    TsaSerials nodeA = new TsaSerials(ds);
    TsaSerials nodeB = new TsaSerials(ds);
    Set<BigInteger> seen = ConcurrentHashMap.newKeySet();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<Integer>> done = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      TsaSerials node = t % 2 == 0 ? nodeA : nodeB;
      done.add(
          pool.submit(
              () -> {
                int duplicates = 0;
                for (int i = 0; i < 3000; i++) {
                  if (!seen.add(node.next())) {
                    duplicates++;
                  }
                }
                return duplicates;
              }));
    }
    for (Future<Integer> f : done) {
      assertThat(f.get()).isZero();
    }
    pool.shutdown();
    assertThat(seen).hasSize(12_000);
    // A node that restarts takes a fresh block: nothing handed out before comes back.
    TsaSerials restarted = new TsaSerials(ds);
    Set<BigInteger> after = new HashSet<>();
    for (int i = 0; i < 2500; i++) {
      after.add(restarted.next());
    }
    assertThat(after).hasSize(2500).doesNotContainAnyElementsOf(seen);
  }
}
