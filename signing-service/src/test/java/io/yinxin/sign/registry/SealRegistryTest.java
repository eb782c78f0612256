package io.yinxin.sign.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.sign.SignException;
import io.yinxin.sign.spring.SignSchema;
import io.yinxin.sign.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry accepts a seal only when its certificate is for its key and fit for signing, stores
 * nothing for a refused one, and records every change in the evidence log.
 */
class SealRegistryTest {
  @TempDir static Path dir;
  static JdbcDataSource ds;
  static LogStore log;
  static Integrator integrator;
  static KeyServices keys;
  static TestPki pki;
  static SealRegistry registry;

  @BeforeAll
  static void setUp() throws Exception {
    ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:registry;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1");
    log = LogStore.open(ds);
    integrator = new Integrator(log, 100, 1000);
    SignSchema.migrate(ds);
    keys = KeyServices.of(SoftKeyBackend.open(dir.resolve("keys")));
    pki = new TestPki("C=CN,O=Test,CN=Registry Root");
    registry = new SealRegistry(ds, keys, integrator, Clock.systemUTC());
  }

  @AfterAll
  static void tearDown() {
    integrator.close();
  }

  private static String pem(X509CertificateHolder... certs) throws Exception {
    return Files.readString(TestPki.writePem(Files.createTempFile(dir, "c", ".pem"), certs));
  }

  private static long count(String table) throws Exception {
    try (Connection c = ds.getConnection();
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void aSealIsCreatedGrantedDisabledAndEveryChangeIsInTheLog() throws Exception {
    KeyInfo key = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "ok");
    long before = log.size();
    Seal seal =
        registry.create(
            "admin",
            new SealRegistry.NewSeal(
                "福州某某科技有限公司",
                "合同专用章",
                key.ref().toString(),
                pem(pki.seal(key, "CN=Seal"), pki.root),
                Optional.empty(),
                List.of("portal")));
    assertThat(seal.id()).matches("seal-[0-9a-f]{20}");
    assertThat(registry.find(seal.id())).isPresent();
    assertThat(registry.granted(seal.id(), "portal")).isTrue();
    assertThat(registry.granted(seal.id(), "someone-else")).isFalse();
    registry.grant("admin", seal.id(), "erp");
    registry.grant("admin", seal.id(), "erp"); // idempotent: no second event
    registry.withdraw("admin", seal.id(), "portal");
    registry.setActive("admin", seal.id(), false);
    assertThat(registry.find(seal.id()).orElseThrow().active()).isFalse();
    assertThat(registry.grantees(seal.id())).containsExactly("erp");
    // created, granted, withdrawn, disabled: four events, each durable when the call returned.
    assertThat(log.size() - before).isEqualTo(4);
  }

  @Test
  void aSealReadAgainKeepsItsParsedIdentityButAChangedRowIsReadAfresh() throws Exception {
    KeyInfo key = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "kept");
    X509CertificateHolder cert = pki.seal(key, "CN=Kept");
    Seal seal =
        registry.create(
            "admin",
            new SealRegistry.NewSeal(
                "某某局", "", key.ref().toString(), pem(cert, pki.root), Optional.empty(), List.of()));
    Seal first = registry.find(seal.id()).orElseThrow();
    Seal second = registry.find(seal.id()).orElseThrow();
    assertThat(second.identity()).isSameAs(first.identity());
    assertThat(first.identity().certificate()).isEqualTo(cert);
    assertThat(first.identity().chain()).containsExactly(cert, pki.root);
    // The status is read on every find, never kept.
    registry.setActive("admin", seal.id(), false);
    assertThat(registry.find(seal.id()).orElseThrow().active()).isFalse();
    assertThat(registry.find(seal.id()).orElseThrow().identity()).isSameAs(first.identity());
    // A row changed behind the registry's back (another node, an operator) is parsed again.
    try (Connection c = ds.getConnection();
        java.sql.PreparedStatement ps =
            c.prepareStatement("UPDATE sign.seals SET name = ? WHERE id = ?")) {
      ps.setString(1, "另一个局");
      ps.setString(2, seal.id());
      ps.executeUpdate();
    }
    Seal changed = registry.find(seal.id()).orElseThrow();
    assertThat(changed.identity()).isNotSameAs(first.identity());
    assertThat(changed.identity().name()).isEqualTo("另一个局");
    assertThat(changed.name()).isEqualTo("另一个局");
  }

  @Test
  void aCertificateForAnotherKeyACaCertificateOrGarbageIsRefusedAndNothingIsStored()
      throws Exception {
    KeyInfo key = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "mine");
    KeyInfo other = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "other");
    long seals = count("sign.seals");
    long entries = log.size();
    List<String> chains =
        List.of(
            pem(pki.seal(other, "CN=Other")), // not for this key
            pem(pki.root), // a CA certificate, and not for this key either
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "not pem at all",
            "");
    for (String chain : chains) {
      assertThatThrownBy(
              () ->
                  registry.create(
                      "admin",
                      new SealRegistry.NewSeal(
                          "某公司", "", key.ref().toString(), chain, Optional.empty(), List.of())))
          .isInstanceOf(SignException.class)
          .extracting(e -> ((SignException) e).code())
          .isEqualTo(SignException.Code.INVALID_REQUEST);
    }
    String good = pem(pki.seal(key, "CN=Mine"));
    for (var bad :
        List.of(
            new SealRegistry.NewSeal(
                "", "", key.ref().toString(), good, Optional.empty(), List.of()),
            new SealRegistry.NewSeal(
                "x".repeat(41), "", key.ref().toString(), good, Optional.empty(), List.of()),
            new SealRegistry.NewSeal(
                "某\u0000公司", "", key.ref().toString(), good, Optional.empty(), List.of()),
            // Drawn text that reads other than it is: a right-to-left override, a zero-width
            // space, a private-use character, the decomposed form of é.
            new SealRegistry.NewSeal(
                "某\u202e公司", "", key.ref().toString(), good, Optional.empty(), List.of()),
            new SealRegistry.NewSeal(
                "某\u200b公司", "", key.ref().toString(), good, Optional.empty(), List.of()),
            new SealRegistry.NewSeal(
                "某公司", "\ue000", key.ref().toString(), good, Optional.empty(), List.of()),
            new SealRegistry.NewSeal(
                "Caf\u0065\u0301", "", key.ref().toString(), good, Optional.empty(), List.of()),
            new SealRegistry.NewSeal("某公司", "", "soft:nope", good, Optional.empty(), List.of()),
            new SealRegistry.NewSeal("某公司", "", "not a uri", good, Optional.empty(), List.of()),
            new SealRegistry.NewSeal(
                "某公司",
                "",
                key.ref().toString(),
                good,
                Optional.of(new byte[] {1, 2, 3}),
                List.of()),
            // A PNG whose text chunk inflates to 64 MiB.
            new SealRegistry.NewSeal(
                "某公司",
                "",
                key.ref().toString(),
                good,
                Optional.of(
                    SealImageTest.withChunks(
                        SealImageTest.plainPng(),
                        SealImageTest.chunk(
                            "zTXt", SealImageTest.zTxt(SealImageTest.deflatedZeros(64L << 20))))),
                List.of()),
            new SealRegistry.NewSeal(
                "某公司", "", key.ref().toString(), good, Optional.empty(), List.of("bad grantee")))) {
      assertThatThrownBy(() -> registry.create("admin", bad))
          .isInstanceOf(SignException.class)
          .extracting(e -> ((SignException) e).code())
          .isEqualTo(SignException.Code.INVALID_REQUEST);
    }
    assertThat(count("sign.seals")).isEqualTo(seals);
    assertThat(log.size()).isEqualTo(entries);
  }
}
