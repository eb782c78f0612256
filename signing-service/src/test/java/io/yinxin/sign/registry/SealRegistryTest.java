package io.yinxin.sign.registry;

import static java.time.ZoneOffset.UTC;
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

  /** A seal for {@code key} made by {@code by} (whose clock says when), granted to {@code to}. */
  private static Seal seal(SealRegistry by, String label, Optional<byte[]> image, String... to)
      throws Exception {
    KeyInfo key = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, label);
    return by.create(
        "admin",
        new SealRegistry.NewSeal(
            "某某局",
            "",
            key.ref().toString(),
            pem(pki.seal(key, "CN=" + label), pki.root),
            image,
            List.of(to)));
  }

  private static List<String> ids(List<SealSummary> page) {
    return page.stream().map(SealSummary::id).toList();
  }

  @Test
  void sealsArePagedOldestFirstWithoutGapsOrRepeatsWhenSeveralShareTheirCreationTime()
      throws Exception {
    String pager = "pager-" + System.nanoTime();
    java.time.Instant later = java.time.Instant.parse("2026-03-01T08:00:00Z");
    java.time.Instant earlier = later.minus(java.time.Duration.ofDays(1));
    SealRegistry atLater = new SealRegistry(ds, keys, integrator, Clock.fixed(later, UTC));
    SealRegistry atEarlier = new SealRegistry(ds, keys, integrator, Clock.fixed(earlier, UTC));
    List<String> late = new java.util.ArrayList<>();
    List<String> early = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      late.add(seal(atLater, "late" + i + pager, Optional.empty(), pager).id());
    }
    for (int i = 0; i < 2; i++) {
      early.add(seal(atEarlier, "early" + i + pager, Optional.empty(), pager, "other").id());
    }
    seal(registry, "notgranted" + pager, Optional.empty(), "someone-else");
    List<String> expected = new java.util.ArrayList<>(early.stream().sorted().toList());
    expected.addAll(late.stream().sorted().toList());

    // Two at a time, each page going on after the last seal of the one before.
    List<String> walked = new java.util.ArrayList<>();
    Optional<String> after = Optional.empty();
    List<Integer> sizes = new java.util.ArrayList<>();
    while (true) {
      List<SealSummary> page = registry.page(after, Optional.of(pager), 2);
      sizes.add(page.size());
      walked.addAll(ids(page));
      if (page.size() < 2 || sizes.size() > 10) {
        break; // (a page that went back would otherwise go round for ever)
      }
      after = Optional.of(page.get(1).id());
    }
    assertThat(walked).containsExactlyElementsOf(expected);
    assertThat(sizes).containsExactly(2, 2, 1);
    SealSummary first = registry.page(Optional.empty(), Optional.of(pager), 1).get(0);
    assertThat(first.grantees()).containsExactly("other", pager);
    assertThat(first.createdAt()).isEqualTo(earlier);

    // Without a grantee: every seal once, in the order the table gives by creation and id.
    List<String> all = new java.util.ArrayList<>();
    after = Optional.empty();
    for (List<SealSummary> page; ; after = Optional.of(page.get(page.size() - 1).id())) {
      page = registry.page(after, Optional.empty(), 3);
      all.addAll(ids(page));
      if (page.size() < 3 || all.size() > 10_000) {
        break;
      }
    }
    List<String> table = new java.util.ArrayList<>();
    try (Connection c = ds.getConnection();
        ResultSet rs = c.createStatement().executeQuery("SELECT id, created_at FROM sign.seals")) {
      List<Object[]> rows = new java.util.ArrayList<>();
      while (rs.next()) {
        rows.add(new Object[] {rs.getString(1), rs.getTimestamp(2).toInstant()});
      }
      rows.sort(
          java.util.Comparator.comparing((Object[] r) -> (java.time.Instant) r[1])
              .thenComparing(r -> (String) r[0]));
      rows.forEach(r -> table.add((String) r[0]));
    }
    assertThat(all).containsExactlyElementsOf(table);

    // The CSC listing's order: by id, going on after an id.
    List<String> byId = expected.stream().sorted().toList();
    assertThat(ids(registry.grantedTo(List.of(pager), Optional.empty(), 10)))
        .containsExactlyElementsOf(byId);
    assertThat(ids(registry.grantedTo(List.of(pager), Optional.of(byId.get(1)), 2)))
        .containsExactlyElementsOf(byId.subList(2, 4));
    assertThat(registry.grantedTo(List.of(), Optional.empty(), 10)).isEmpty();
  }

  @Test
  void aPageAfterAnUnknownSealOrOfABadSizeOrGranteeIsRefused() {
    for (Runnable bad :
        List.<Runnable>of(
            () -> registry.page(Optional.of("seal-00000000000000000000"), Optional.empty(), 5),
            () -> registry.page(Optional.of("seal-0"), Optional.empty(), 5),
            () -> registry.page(Optional.of("' OR 1=1 --"), Optional.empty(), 5),
            () -> registry.page(Optional.empty(), Optional.empty(), 0),
            () -> registry.page(Optional.empty(), Optional.empty(), SealRegistry.MAX_PAGE + 1),
            () -> registry.page(Optional.empty(), Optional.of("bad grantee"), 5),
            () -> registry.grantedTo(List.of("x"), Optional.empty(), -1))) {
      assertThatThrownBy(bad::run)
          .isInstanceOf(SignException.class)
          .extracting(e -> ((SignException) e).code())
          .isEqualTo(SignException.Code.INVALID_REQUEST);
    }
  }

  @Test
  void aListedSealSaysWhetherItHasAnUploadedImageWithoutCarryingIt() throws Exception {
    String who = "img-" + System.nanoTime();
    Seal drawn = seal(registry, "drawn" + who, Optional.empty(), who);
    Seal uploaded = seal(registry, "uploaded" + who, Optional.of(noise(64)), who);
    assertThat(registry.summary(drawn.id()).orElseThrow().uploadedImage()).isFalse();
    assertThat(registry.summary(uploaded.id()).orElseThrow().uploadedImage()).isTrue();
    assertThat(registry.summary("seal-00000000000000000000")).isEmpty();
    assertThat(registry.summary("../etc")).isEmpty();
    assertThat(registry.page(Optional.empty(), Optional.of(who), 5))
        .extracting(SealSummary::uploadedImage)
        .containsExactlyInAnyOrder(false, true);
  }

  /** A PNG of random pixels, {@code side} pixels square: about 4 × side² bytes, incompressible. */
  private static byte[] noise(int side) throws Exception {
    java.awt.image.BufferedImage img =
        new java.awt.image.BufferedImage(side, side, java.awt.image.BufferedImage.TYPE_INT_ARGB);
    java.util.Random r = new java.util.Random(side);
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        img.setRGB(x, y, r.nextInt());
      }
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  @Test
  void theSealsKeptParsedStayWithinTheirBoundHoweverLargeTheirImages() throws Exception {
    byte[] large = noise(350); // about 490 KB, under the 512 KB limit
    assertThat(large.length).isBetween(400_000, SealRegistry.MAX_IMAGE_BYTES);
    String who = "big-" + System.nanoTime();
    int n = (int) (SealRegistry.PARSED_MAX_WEIGHT / large.length) + 10;
    // One seal made by the registry, copied under new ids (as many seals with one image would be).
    Seal model = seal(registry, "big" + who, Optional.of(large), who);
    List<Seal> seals = new java.util.ArrayList<>(List.of(model));
    try (Connection c = ds.getConnection();
        java.sql.PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO sign.seals (id, name, sub_line, key_ref, algorithm, chain_pem, image,"
                    + " status, created_at) SELECT ?, name, sub_line, key_ref, algorithm, chain_pem,"
                    + " image, status, created_at FROM sign.seals WHERE id = ?")) {
      for (int i = 1; i < n; i++) {
        String id = String.format("seal-%020x", i + (System.nanoTime() & 0xffffffffL) * 1000);
        ps.setString(1, id);
        ps.setString(2, model.id());
        ps.executeUpdate();
        seals.add(registry.find(id).orElseThrow());
      }
    }
    List<Seal> found = new java.util.ArrayList<>();
    for (Seal s : seals) {
      found.add(registry.find(s.id()).orElseThrow());
    }
    long[] kept = registry.keptSize();
    assertThat(kept[1]).isLessThanOrEqualTo(SealRegistry.PARSED_MAX_WEIGHT);
    assertThat(kept[0]).isLessThan(n);
    // The least recently used went, one at a time; the latest ones are still kept.
    Seal last = seals.get(n - 1);
    assertThat(registry.find(last.id()).orElseThrow().identity())
        .isSameAs(found.get(n - 1).identity());
    assertThat(registry.find(seals.get(0).id()).orElseThrow().identity())
        .isNotSameAs(found.get(0).identity());
    assertThat(registry.find(seals.get(n - 2).id()).orElseThrow().identity())
        .isSameAs(found.get(n - 2).identity());
  }
}
