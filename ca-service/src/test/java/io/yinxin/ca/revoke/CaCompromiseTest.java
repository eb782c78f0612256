package io.yinxin.ca.revoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.CaException;
import io.yinxin.ca.Pem;
import io.yinxin.ca.crl.CrlService;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.issue.IssuanceService;
import io.yinxin.ca.issue.Urls;
import io.yinxin.ca.ocsp.OcspResponder;
import io.yinxin.ca.profile.HierarchyConfig;
import io.yinxin.ca.profile.Profile;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import io.yinxin.ca.store.CertificateRecord.Status;
import io.yinxin.ca.testing.TestCsr;
import io.yinxin.ca.testing.TestNodes;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.hsm.testing.OpenSsl;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.operator.bc.BcDigestCalculatorProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The emergency procedure for a compromised issuing CA, end to end on PostgreSQL, judged by
 * openssl: node A runs the embedded hierarchy and issues; the operator adds a replacement CA
 * ({@code citizen-2}) to node B's hierarchy file and points the citizen profiles at it; B's dry run
 * changes nothing; B's run revokes the CA certificate at the root, every certificate the CA issued
 * (real ones and a thousand more rows), publishes the CRLs, creates the replacement and its OCSP
 * signer; A hears of it through the status feed and refuses to issue from the revoked CA; B
 * re-issues for every subscriber whose own key is fine.
 */
class CaCompromiseTest {
  static final int ROWS = 1_000;

  static PostgresDatabase db;
  static DataSource ds;
  static KeyServices keys;
  static Integrator integrator;
  static Path dir;

  @BeforeAll
  static void setUp() {
    db = TestNodes.database();
    com.zaxxer.hikari.HikariDataSource pool = new com.zaxxer.hikari.HikariDataSource();
    pool.setJdbcUrl(db.url());
    pool.setUsername(PostgresDatabase.USER);
    pool.setMaximumPoolSize(10);
    ds = pool;
    dir = TestNodes.dataDir("yinxin-ca-compromise-");
    keys = KeyServices.of(SoftKeyBackend.open(dir.resolve("keys")));
    integrator = new Integrator(LogStore.open(ds), 500, 1000);
  }

  @AfterAll
  static void tearDown() {
    integrator.close();
    keys.close();
    ((com.zaxxer.hikari.HikariDataSource) ds).close();
    db.close();
  }

  /** One node: its hierarchy, issuance, revocations, CRLs and OCSP on the shared database. */
  record Node(
      Hierarchy hierarchy,
      CaStore store,
      IssuanceService issuance,
      RevocationService revocations,
      CrlService crls,
      OcspResponder ocsp,
      StatusFeed feed,
      CaCompromise compromise) {}

  static Node node(HierarchyConfig config, boolean init) {
    CaStore store = CaStore.open(ds);
    StatusFeed feed = new StatusFeed(store, Duration.ofMinutes(10));
    Hierarchy h =
        new Hierarchy(
            config, store, keys, KeyRef.Scheme.SOFT, new Urls("http://127.0.0.1:9"), integrator);
    if (init) {
      h.init();
    } else {
      h.load();
    }
    RevocationService r = new RevocationService(store, integrator);
    r.onChange(c -> h.certificateChanged(c.issuer(), c.serial(), c.status()));
    feed.follow(ch -> h.certificateChanged(ch.issuer(), ch.serial(), ch.status()));
    RevokedKeys revoked = RevokedKeys.load(store);
    revoked.follow(r);
    IssuanceService issuance =
        new IssuanceService(h, store, keys, integrator::append, revoked, 400);
    CrlService crls =
        new CrlService(
            h,
            store,
            keys,
            integrator,
            Duration.ofDays(1),
            Duration.ofHours(1),
            Duration.ofDays(30));
    OcspResponder ocsp = TestNodes.ocspResponder(h, store, keys, integrator::append);
    ocsp.follow(r);
    ocsp.follow(feed);
    return new Node(
        h, store, issuance, r, crls, ocsp, feed, new CaCompromise(h, store, r, crls, issuance));
  }

  /** The embedded hierarchy with a replacement citizen CA that the citizen profiles now name. */
  static HierarchyConfig withReplacement() throws Exception {
    String yaml;
    try (InputStream in =
        HierarchyConfig.class.getResourceAsStream("/io/yinxin/ca/hierarchy.yml")) {
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String profiles = yaml.replace("    issuer: citizen\n", "    issuer: citizen-2\n");
    assertThat(profiles).isNotEqualTo(yaml);
    String added =
        profiles.replace(
            "  - name: enterprise\n",
            "  - name: citizen-2\n"
                + "    parent: root\n"
                + "    subject: \"C=CN,O=Yinxin,CN=Yinxin Citizen CA E2\"\n"
                + "    key: EC_P256\n"
                + "    validity-days: 3650\n"
                + "  - name: enterprise\n");
    assertThat(added).isNotEqualTo(profiles);
    return HierarchyConfig.parse(
        new ByteArrayInputStream(added.getBytes(StandardCharsets.UTF_8)), "test");
  }

  static IssuanceService.Issued issue(Node n, KeyPair key, String name) {
    return n.issuance()
        .issue(
            "test",
            Profile.Channel.REST,
            new IssuanceService.IssueRequest(
                "citizen-sign",
                TestCsr.pem(TestCsr.der(key, "SHA256withECDSA")),
                Map.of("name", name, "idNumber", "11010519491231002X"),
                List.of(),
                List.of()));
  }

  @Test
  void aCompromisedIssuingCaIsRevokedWithEverythingItIssuedAndReplaced() throws Exception {
    Node a = node(HierarchyConfig.defaults(), true);
    KeyPair good = TestCsr.ec("secp256r1");
    KeyPair held = TestCsr.ec("secp256r1");
    KeyPair leaked = TestCsr.ec("secp256r1");
    CertificateRecord valid = issue(a, good, "甲").record();
    CertificateRecord onHold = issue(a, held, "乙").record();
    CertificateRecord leakedFirst = issue(a, leaked, "丙").record();
    CertificateRecord leakedSecond = issue(a, leaked, "丙").record();
    a.revocations().revoke("test", "citizen", onHold.serial(), "certificateHold");
    a.revocations().revoke("test", "citizen", leakedFirst.serial(), "keyCompromise");
    // A thousand more certificates of the CA, spread over three CRL partitions.
    a.store()
        .inTransaction(
            c -> {
              List<CertificateRecord> rows = new ArrayList<>();
              for (int i = 0; i < ROWS; i++) {
                CertificateRecord t =
                    TestNodes.certificateRow(
                        "citizen", "ab" + Integer.toHexString(i), new byte[32]);
                rows.add(
                    new CertificateRecord(
                        t.issuer(),
                        t.serial(),
                        valid.profile(),
                        valid.subject(),
                        valid.keySha256(),
                        valid.notBefore(),
                        valid.notAfter(),
                        i % 3,
                        Status.VALID,
                        t.revokedAt(),
                        t.reason(),
                        t.issuedAt(),
                        valid.der()));
              }
              a.store().certificates().insertCertificates(c, rows);
              return null;
            });
    Map<Status, Long> before = a.store().certificates().countByStatus("citizen");
    // valid, the two leaked-key certificates' second, ocsp-citizen, the rows; one on hold
    assertThat(before.get(Status.VALID)).isEqualTo(ROWS + 3L);
    assertThat(before.get(Status.ON_HOLD)).isEqualTo(1L);

    Node b = node(withReplacement(), false);
    long logBefore = auditEntries();
    CaCompromise.Plan plan = b.compromise().plan("citizen");
    assertThat(plan.parent()).isEqualTo("root");
    assertThat(plan.caCertificateRevoked()).isFalse();
    assertThat(plan.toRevoke()).isEqualTo(ROWS + 4L);
    assertThat(plan.partitions()).containsExactly(0, 1, 2);
    assertThat(plan.toCreate()).containsExactly("ca citizen-2", "service ocsp-citizen-2");
    assertThat(plan.profilesNamingCa()).isEmpty();
    assertThat(a.compromise().plan("citizen").profilesNamingCa())
        .containsExactlyInAnyOrder("citizen-sign", "citizen-auth");
    assertThat(b.store().certificates().countByStatus("citizen")).isEqualTo(before);
    assertThat(auditEntries()).as("a dry run records nothing").isEqualTo(logBefore);
    assertThat(b.hierarchy().findIssuer("citizen-2")).isEmpty();
    assertThatThrownBy(() -> b.compromise().plan("root")).hasMessageContaining("new trust anchor");
    assertThatThrownBy(() -> b.compromise().reissue("test", "citizen", 10))
        .hasMessageContaining("not revoked");

    long started = System.nanoTime();
    CaCompromise.Report report = b.compromise().execute("incident-42", "citizen");
    System.out.printf(
        "ca-compromise: %d certificates revoked, %d CRLs, in %d ms (CRLs after %d ms)%n",
        report.revoked(),
        report.crls().size(),
        (System.nanoTime() - started) / 1_000_000,
        report.millisToCrls());
    assertThat(report.revoked()).isEqualTo(ROWS + 4);
    assertThat(report.created()).containsExactly("ca citizen-2", "service ocsp-citizen-2");
    Map<Status, Long> after = b.store().certificates().countByStatus("citizen");
    assertThat(after).containsOnlyKeys(Status.REVOKED);
    assertThat(after.get(Status.REVOKED)).isEqualTo(ROWS + 5L);
    assertThat(revokedEvents()).as("one CERT_REVOKED per certificate").isEqualTo(ROWS + 4L);

    // openssl: the root's CRL revokes the CA certificate for CA compromise ...
    X509CertificateHolder citizen = b.hierarchy().issuer("citizen").certificate();
    Path d = Files.createTempDirectory(dir, "judge");
    Files.writeString(
        d.resolve("root.pem"), Pem.certificate(b.hierarchy().issuer("root").encoded()));
    Files.writeString(d.resolve("citizen.pem"), Pem.certificate(citizen.getEncoded()));
    Files.writeString(d.resolve("root-crl.pem"), crlPem(b.crls().current("root", 0, false).der()));
    String rootCrl = openssl(d, "crl", "-in", "root-crl.pem", "-noout", "-text");
    assertThat(rootCrl)
        .containsPattern(
            "Serial Number: 0*"
                + citizen.getSerialNumber().toString(16).toUpperCase(java.util.Locale.ROOT)
                + "\\s+Revocation Date: [^\\n]+\\n\\s+CRL entry extensions:\\s+X509v3 CRL Reason"
                + " Code:\\s+CA Compromise");
    Files.writeString(
        d.resolve("chain-crls.pem"),
        crlPem(b.crls().current("root", 0, false).der())
            + crlPem(b.crls().current("citizen", 0, false).der()));
    Files.writeString(d.resolve("leaf.pem"), Pem.certificate(valid.der()));
    String verify =
        OpenSsl.run(
                d,
                "verify",
                "-crl_check_all",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "citizen.pem",
                "-CRLfile",
                "chain-crls.pem",
                "leaf.pem")
            .output();
    assertThat(verify).contains("certificate revoked").doesNotContain("leaf.pem: OK");

    // ... and the CA's CRLs list every certificate it issued, across its partitions.
    int listed = 0;
    for (int p : List.of(0, 1, 2)) {
      Files.writeString(
          d.resolve("crl" + p + ".pem"), crlPem(b.crls().current("citizen", p, false).der()));
      String text = openssl(d, "crl", "-in", "crl" + p + ".pem", "-noout", "-text");
      assertThat(openssl(d, "crl", "-in", "crl" + p + ".pem", "-noout", "-CAfile", "citizen.pem"))
          .contains("verify OK");
      listed += count(text, "Serial Number:");
    }
    assertThat(listed).isEqualTo(ROWS + 5);

    // OCSP on node A, which only hears of it through the status feed: revoked, cACompromise.
    a.feed().poll();
    String ocsp = ocspStatus(a, d, valid.serial());
    assertThat(ocsp).contains("Response verify OK").containsPattern(": revoked");
    assertThat(ocsp).contains("Reason: cACompromise");
    // Node A, whose profiles still name the CA, refuses to issue from it.
    assertThatThrownBy(() -> issue(a, TestCsr.ec("secp256r1"), "丁"))
        .isInstanceOf(CaException.class)
        .hasMessageContaining("revoked certificate");
    // Node B issues new requests from the replacement.
    assertThat(issue(b, TestCsr.ec("secp256r1"), "丁").record().issuer()).isEqualTo("citizen-2");

    // Re-issue, in batches, for every subscriber whose own key is fine.
    Map<String, String> reissued = new HashMap<>();
    int passedOver = 0;
    long remaining;
    do {
      CaCompromise.ReissueBatch batch = b.compromise().reissue("incident-42", "citizen", 400);
      reissued.putAll(batch.reissued());
      passedOver += batch.passedOver().size();
      remaining = batch.remaining();
    } while (remaining > 0);
    // Not re-issued: the second certificate of the leaked key, and the old OCSP signer.
    assertThat(passedOver).isEqualTo(2);
    assertThat(reissued).hasSize(ROWS + 2);
    assertThat(reissued).doesNotContainKey("citizen/" + leakedSecond.serial());
    String renewed = reissued.get("citizen/" + valid.serial());
    assertThat(renewed).startsWith("citizen-2/");
    CertificateRecord fresh =
        b.store().certificates().certificate("citizen-2", renewed.substring(10)).orElseThrow();
    X509CertificateHolder freshCert = new X509CertificateHolder(fresh.der());
    X509CertificateHolder oldCert = new X509CertificateHolder(valid.der());
    assertThat(freshCert.getSubject()).isEqualTo(oldCert.getSubject());
    assertThat(freshCert.getSubjectPublicKeyInfo()).isEqualTo(oldCert.getSubjectPublicKeyInfo());
    assertThat(freshCert.getNotAfter()).isBeforeOrEqualTo(oldCert.getNotAfter());
    Files.writeString(
        d.resolve("citizen-2.pem"), Pem.certificate(b.hierarchy().issuer("citizen-2").encoded()));
    Files.writeString(d.resolve("fresh.pem"), Pem.certificate(fresh.der()));
    assertThat(
            OpenSsl.run(
                    d,
                    "verify",
                    "-CAfile",
                    "root.pem",
                    "-untrusted",
                    "citizen-2.pem",
                    "-purpose",
                    "any",
                    "fresh.pem")
                .output())
        .contains("fresh.pem: OK");
    assertThat(b.compromise().reissue("incident-42", "citizen", 10).reissued())
        .as("nothing is re-issued twice")
        .isEmpty();

    // Run again: nothing left to do, nothing done twice.
    CaCompromise.Report again = b.compromise().execute("incident-42", "citizen");
    assertThat(again.plan().caCertificateRevoked()).isTrue();
    assertThat(again.revoked()).isZero();
    assertThat(again.created()).isEmpty();
    assertThat(revokedEvents()).isEqualTo(ROWS + 4L);
  }

  /**
   * A service key compromised: node B replaces the delegated OCSP signer of the enterprise CA and
   * the TSA, revoking the old certificates from an hour ago (invalidityDate); node A, hearing it
   * through the status feed, switches its responder to the new signer; openssl reads the invalidity
   * date and the key-compromise reason on the CRL; the OCSP answer about the old signer carries the
   * invalidity date.
   */
  @Test
  void aCompromisedServiceKeyIsReplacedAndDistrustedFromAGivenTime() throws Exception {
    Node a = node(HierarchyConfig.defaults(), true);
    Node b = node(HierarchyConfig.defaults(), false);
    ServiceCompromise services =
        new ServiceCompromise(b.hierarchy(), b.store(), b.revocations(), b.crls());
    java.time.Instant since =
        java.time.Instant.now()
            .minus(1, java.time.temporal.ChronoUnit.HOURS)
            .truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    X509CertificateHolder oldSigner =
        a.hierarchy().service("ocsp-enterprise").orElseThrow().certificate();
    X509CertificateHolder oldTsa = a.hierarchy().service("tsa").orElseThrow().certificate();

    ServiceCompromise.Report dry = services.plan("ocsp-enterprise", since);
    assertThat(dry.oldSerial()).isEqualTo(oldSigner.getSerialNumber().toString(16));
    assertThat(dry.newSerial()).isEmpty();
    assertThat(
            b.store()
                .certificates()
                .certificate("enterprise", dry.oldSerial())
                .orElseThrow()
                .status())
        .isEqualTo(Status.VALID);
    assertThatThrownBy(
            () -> services.plan("ocsp-enterprise", java.time.Instant.now().plusSeconds(600)))
        .hasMessageContaining("future");
    assertThatThrownBy(() -> services.plan("nope", since)).isInstanceOf(CaException.class);

    ServiceCompromise.Report signer = services.execute("incident-43", "ocsp-enterprise", since);
    ServiceCompromise.Report tsa = services.execute("incident-43", "tsa", since);
    assertThat(signer.newSerial().orElseThrow()).isNotEqualTo(signer.oldSerial());
    assertThat(tsa.newSerial().orElseThrow()).isNotEqualTo(oldTsa.getSerialNumber().toString(16));
    assertThat(b.hierarchy().service("tsa").orElseThrow().certificate()).isNotEqualTo(oldTsa);

    // Node A switches when the feed tells it the old certificates are revoked.
    assertThat(a.hierarchy().service("tsa").orElseThrow().certificate()).isEqualTo(oldTsa);
    a.feed().poll();
    X509CertificateHolder newTsa = a.hierarchy().service("tsa").orElseThrow().certificate();
    assertThat(newTsa.getSerialNumber().toString(16)).isEqualTo(tsa.newSerial().orElseThrow());
    assertThat(newTsa.getSubjectPublicKeyInfo()).isNotEqualTo(oldTsa.getSubjectPublicKeyInfo());
    X509CertificateHolder newSigner =
        a.hierarchy().service("ocsp-enterprise").orElseThrow().certificate();
    assertThat(newSigner.getSerialNumber().toString(16))
        .isEqualTo(signer.newSerial().orElseThrow());

    Path d = Files.createTempDirectory(dir, "service");
    Files.writeString(
        d.resolve("root.pem"), Pem.certificate(a.hierarchy().issuer("root").encoded()));
    Files.writeString(
        d.resolve("citizen.pem"), Pem.certificate(a.hierarchy().issuer("enterprise").encoded()));
    Files.writeString(d.resolve("crl.pem"), crlPem(b.crls().current("enterprise", 0, false).der()));
    String crl = openssl(d, "crl", "-in", "crl.pem", "-noout", "-text");
    String when =
        java.time.format.DateTimeFormatter.ofPattern(
                "MMM ppd HH:mm:ss yyyy 'GMT'", java.util.Locale.ROOT)
            .withZone(java.time.ZoneOffset.UTC)
            .format(since);
    for (String serial : List.of(signer.oldSerial(), tsa.oldSerial())) {
      assertThat(crl)
          .containsPattern(
              "(?s)Serial Number: 0*"
                  + serial.toUpperCase(java.util.Locale.ROOT)
                  + "\\s+Revocation Date: [^\\n]+\\n\\s+CRL entry extensions:\\s+X509v3 CRL Reason"
                  + " Code:\\s+Key Compromise\\s+Invalidity Date:\\s+"
                  + Pattern.quote(when));
    }

    // OCSP about the old signer's certificate, answered by the new signer on node A.
    CertificateID id =
        new CertificateID(
            new BcDigestCalculatorProvider().get(CertificateID.HASH_SHA1),
            a.hierarchy().issuer("enterprise").certificate(),
            oldSigner.getSerialNumber());
    byte[] resp = a.ocsp().respond(new OCSPReqBuilder().addRequest(id).build().getEncoded());
    org.bouncycastle.cert.ocsp.BasicOCSPResp basic =
        (org.bouncycastle.cert.ocsp.BasicOCSPResp)
            new org.bouncycastle.cert.ocsp.OCSPResp(resp).getResponseObject();
    assertThat(basic.getCerts()[0]).isEqualTo(newSigner);
    org.bouncycastle.cert.ocsp.SingleResp single = basic.getResponses()[0];
    assertThat(
            org.bouncycastle.asn1.ASN1GeneralizedTime.getInstance(
                    single
                        .getExtension(org.bouncycastle.asn1.x509.Extension.invalidityDate)
                        .getParsedValue())
                .getDate()
                .toInstant())
        .isEqualTo(since);
    Files.write(d.resolve("resp.der"), resp);
    String ocsp =
        OpenSsl.run(
                d,
                "ocsp",
                "-respin",
                "resp.der",
                "-issuer",
                "citizen.pem",
                "-serial",
                "0x" + oldSigner.getSerialNumber().toString(16),
                "-CAfile",
                "root.pem",
                "-verify_other",
                "citizen.pem")
            .output();
    assertThat(ocsp).contains("Response verify OK").contains("Reason: keyCompromise");
  }

  static String ocspStatus(Node n, Path d, String serialHex) throws Exception {
    CertificateID id =
        new CertificateID(
            new BcDigestCalculatorProvider().get(CertificateID.HASH_SHA1),
            n.hierarchy().issuer("citizen").certificate(),
            new BigInteger(serialHex, 16));
    Files.write(
        d.resolve("resp.der"),
        n.ocsp().respond(new OCSPReqBuilder().addRequest(id).build().getEncoded()));
    return OpenSsl.run(
            d,
            "ocsp",
            "-respin",
            "resp.der",
            "-issuer",
            "citizen.pem",
            "-serial",
            "0x" + serialHex,
            "-CAfile",
            "root.pem",
            "-verify_other",
            "citizen.pem")
        .output();
  }

  static String openssl(Path d, String... args) throws Exception {
    OpenSsl.Result r = OpenSsl.run(d, args);
    assertThat(r.exitCode()).as(r.output()).isZero();
    return r.output();
  }

  static String crlPem(byte[] der) {
    return OpenSsl.pem("X509 CRL", der);
  }

  static int count(String text, String what) {
    Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  static long auditEntries() throws Exception {
    return scalar("SELECT count(*) FROM audit.events");
  }

  static long revokedEvents() throws Exception {
    return scalar(
        "SELECT count(*) FROM audit.events WHERE type = 'CERT_REVOKED'"
            + " AND event LIKE '%\"procedure\":\"ca-compromise\"%'");
  }

  static long scalar(String sql) throws Exception {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
