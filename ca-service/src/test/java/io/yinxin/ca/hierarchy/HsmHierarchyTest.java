package io.yinxin.ca.hierarchy;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.AuditLog;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.crl.CrlService;
import io.yinxin.ca.issue.IssuanceService;
import io.yinxin.ca.issue.Urls;
import io.yinxin.ca.profile.HierarchyConfig;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.testing.TestCsr;
import io.yinxin.ca.testing.TestNodes;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.pkcs11.Pkcs11KeyBackend;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.hsm.testing.OpenSsl;
import io.yinxin.hsm.testing.SoftHsm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** The CA hierarchy with its keys on a real PKCS#11 token (SoftHSM2), judged by openssl. */
class HsmHierarchyTest {
  static final String TOKEN = "yinxin-test";
  static PostgresDatabase db;
  static KeyServices keys;
  static Integrator integrator;
  static CaStore store;
  static Hierarchy hierarchy;
  static Path dir;

  @BeforeAll
  static void setUp() throws Exception {
    db = TestNodes.database();
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(db.url());
    ds.setUser(PostgresDatabase.USER);
    dir = TestNodes.dataDir("yinxin-ca-hsm-");
    keys =
        KeyServices.of(
            SoftKeyBackend.open(dir.resolve("keys")),
            Pkcs11KeyBackend.open(SoftHsm.module(), TOKEN, SoftHsm.token(TOKEN), 8));
    integrator = new Integrator(LogStore.open(ds), 100, 1000);
    store = CaStore.open(ds);
    hierarchy =
        new Hierarchy(
            HierarchyConfig.defaults(),
            store,
            keys,
            KeyRef.Scheme.PKCS11,
            new Urls("http://127.0.0.1:9"),
            integrator);
    hierarchy.init();
  }

  static AuditLog audit() {
    return integrator::append;
  }

  @AfterAll
  static void tearDown() {
    integrator.close();
    keys.close();
  }

  @Test
  void caKeysLiveOnTheTokenAndSm2KeysInTheSoftwareBackend() {
    assertThat(hierarchy.issuer("root").key().scheme()).isEqualTo(KeyRef.Scheme.PKCS11);
    assertThat(hierarchy.issuer("root").key().token()).isEqualTo(TOKEN);
    assertThat(hierarchy.issuer("tls").key().scheme()).isEqualTo(KeyRef.Scheme.PKCS11);
    assertThat(hierarchy.service("ocsp-tls").orElseThrow().key().scheme())
        .isEqualTo(KeyRef.Scheme.PKCS11);
    assertThat(hierarchy.issuer("sm2-root").key().scheme()).isEqualTo(KeyRef.Scheme.SOFT);
    assertThat(hierarchy.init().created()).isEmpty();
  }

  @Test
  void aCertificateAndACrlSignedOnTheTokenVerifyWithOpenssl() throws Exception {
    IssuanceService.Issued issued;
    try (IssuanceService issuance =
        new IssuanceService(
            hierarchy, store, keys, audit(), io.yinxin.ca.revoke.RevokedKeys.load(store), 1000)) {
      issued =
          issuance.issue(
              "test",
              io.yinxin.ca.profile.Profile.Channel.REST,
              new IssuanceService.IssueRequest(
                  "server-tls",
                  TestCsr.p256(),
                  Map.of("organization", "某市政务服务中心", "province", "广东省", "locality", "广州市"),
                  List.of("hsm.yinxin.localhost"),
                  List.of()));
    }
    Path work = Files.createTempDirectory(dir, "judge-");
    Files.writeString(
        work.resolve("root.pem"), OpenSsl.pem("CERTIFICATE", hierarchy.issuer("root").encoded()));
    Files.writeString(
        work.resolve("tls.pem"), OpenSsl.pem("CERTIFICATE", hierarchy.issuer("tls").encoded()));
    Files.writeString(work.resolve("leaf.pem"), OpenSsl.pem("CERTIFICATE", issued.record().der()));
    OpenSsl.Result v =
        OpenSsl.run(work, "verify", "-CAfile", "root.pem", "-untrusted", "tls.pem", "leaf.pem");
    assertThat(v.output()).as(v.output()).contains("leaf.pem: OK");

    CrlService crls =
        new CrlService(
            hierarchy,
            store,
            keys,
            integrator,
            Duration.ofDays(1),
            Duration.ofHours(1),
            Duration.ofDays(30));
    Files.write(
        work.resolve("tls.crl"), crls.publishFull("tls", issued.record().partition()).der());
    Files.writeString(
        work.resolve("chain.pem"),
        Files.readString(work.resolve("tls.pem")) + Files.readString(work.resolve("root.pem")));
    OpenSsl.Result crl =
        OpenSsl.run(
            work, "crl", "-inform", "DER", "-in", "tls.crl", "-CAfile", "chain.pem", "-noout");
    assertThat(crl.output()).as(crl.output()).contains("verify OK");
  }
}
