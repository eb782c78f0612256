package io.yinxin.ca.hierarchy;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.Pem;
import io.yinxin.ca.issue.Urls;
import io.yinxin.ca.ocsp.OcspResponder;
import io.yinxin.ca.profile.HierarchyConfig;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.testing.TestNodes;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.hsm.testing.OpenSsl;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.operator.bc.BcDigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two nodes on one PostgreSQL database and one key backend (as with a shared HSM): node A renews
 * the OCSP signer certificates that expire soon, node B does not renew them a second time, loads
 * A's, and its running responder signs with the new signer from the next answer on. openssl judges
 * the answers before and after.
 */
class ServiceRenewalTest {
  static PostgresDatabase db;
  static DataSource ds;
  static KeyServices keys;
  static Integrator integrator;
  static Path dir;

  @BeforeAll
  static void setUp() throws Exception {
    db = TestNodes.database();
    ds = TestNodes.dataSource(db);
    dir = TestNodes.dataDir("yinxin-ca-renewal-");
    keys = KeyServices.of(SoftKeyBackend.open(dir.resolve("keys")));
    integrator = new Integrator(LogStore.open(ds), 100, 1000);
  }

  @AfterAll
  static void tearDown() {
    integrator.close();
    keys.close();
    db.close();
  }

  static Hierarchy node() {
    return new Hierarchy(
        HierarchyConfig.defaults(),
        CaStore.open(ds),
        keys,
        KeyRef.Scheme.SOFT,
        new Urls("http://127.0.0.1:9"),
        integrator);
  }

  @Test
  void aSignerRenewedOnOneNodeIsUsedByAnotherNodesRunningResponderAndMadeOnlyOnce()
      throws Exception {
    Hierarchy a = node();
    a.init();
    Hierarchy b = node();
    b.load();
    OcspResponder responderB =
        TestNodes.ocspResponder(b, CaStore.open(ds), keys, integrator::append);
    X509CertificateHolder before = b.service("ocsp-citizen").orElseThrow().certificate();
    X509CertificateHolder first = signerOf(responderB, b);
    assertThat(first).isEqualTo(before);
    assertThat(openssl(responderB, b, "before")).contains("Response verify OK");

    // The signers were made an hour ago: old enough for a renewal claim.
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.executeUpdate(
          "UPDATE ca.service_certificates SET updated_at = CURRENT_TIMESTAMP - INTERVAL '1' HOUR");
    }
    // A 400-day margin makes every 365-day signer due now.
    Duration everything = Duration.ofDays(400);
    List<String> renewedByA = a.renewServices(everything);
    assertThat(renewedByA).contains("ocsp-citizen", "ocsp-root", "ocsp-tls");
    List<String> renewedByB = b.renewServices(everything);
    assertThat(renewedByB).as("B sees A's fresh claim and renews nothing").isEmpty();
    assertThat(ocspKeys("ocsp-citizen-")).hasSize(2);

    X509CertificateHolder after = b.service("ocsp-citizen").orElseThrow().certificate();
    assertThat(after).isNotEqualTo(before);
    assertThat(after).isEqualTo(a.service("ocsp-citizen").orElseThrow().certificate());
    assertThat(after.getSubjectPublicKeyInfo()).isNotEqualTo(before.getSubjectPublicKeyInfo());
    assertThat(after.getNotAfter()).isAfterOrEqualTo(before.getNotAfter());
    // B's responder, not restarted, now signs with the new signer.
    assertThat(signerOf(responderB, b)).isEqualTo(after);
    assertThat(openssl(responderB, b, "after")).contains("Response verify OK");
  }

  /**
   * A replaced service certificate certifies a new key every time, however quickly the replacements
   * follow each other: three within a second (key generation takes milliseconds) used to certify
   * the replaced key again, because a key whose label (service and second) was taken was reused.
   */
  @Test
  void everyReplacementOfAServiceCertifiesANewKeyEvenWithinOneSecond() {
    Hierarchy h = node();
    h.init();
    List<org.bouncycastle.asn1.x509.SubjectPublicKeyInfo> certified = new java.util.ArrayList<>();
    certified.add(h.service("tsa").orElseThrow().certificate().getSubjectPublicKeyInfo());
    for (int i = 0; i < 3; i++) {
      h.replaceService("test", "tsa");
      certified.add(h.service("tsa").orElseThrow().certificate().getSubjectPublicKeyInfo());
    }
    assertThat(certified).doesNotHaveDuplicates();
    // Four keys, their labels readable: the service, the second, a count when that second was
    // taken.
    assertThat(
            keys.list().stream()
                .map(k -> k.ref().label())
                .filter(l -> l.matches("tsa-\\d{14}(-\\d+)?")))
        .hasSize(4)
        .doesNotHaveDuplicates();
  }

  /** The certificate that signed B's answer for an unknown serial, after checking the signature. */
  static X509CertificateHolder signerOf(OcspResponder responder, Hierarchy node) throws Exception {
    BasicOCSPResp basic =
        (BasicOCSPResp) new OCSPResp(responder.respond(request(node))).getResponseObject();
    X509CertificateHolder signer = basic.getCerts()[0];
    assertThat(
            basic.isSignatureValid(
                new JcaContentVerifierProviderBuilder()
                    .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())
                    .build(signer)))
        .isTrue();
    return signer;
  }

  static byte[] request(Hierarchy node) throws Exception {
    CertificateID id =
        new CertificateID(
            new BcDigestCalculatorProvider().get(CertificateID.HASH_SHA1),
            node.issuer("citizen").certificate(),
            BigInteger.valueOf(0x5eed));
    return new OCSPReqBuilder().addRequest(id).build().getEncoded();
  }

  static String openssl(OcspResponder responder, Hierarchy node, String name) throws Exception {
    Path d = Files.createTempDirectory(dir, name);
    Files.write(d.resolve("resp.der"), responder.respond(request(node)));
    Files.writeString(d.resolve("root.pem"), Pem.certificate(node.issuer("root").encoded()));
    Files.writeString(d.resolve("ca.pem"), Pem.certificate(node.issuer("citizen").encoded()));
    return OpenSsl.run(
            d,
            "ocsp",
            "-respin",
            "resp.der",
            "-issuer",
            "ca.pem",
            "-serial",
            "0x5eed",
            "-CAfile",
            "root.pem",
            "-verify_other",
            "ca.pem")
        .output();
  }

  static List<KeyInfo> ocspKeys(String prefix) {
    return keys.list().stream().filter(k -> k.ref().label().startsWith(prefix)).toList();
  }
}
