package io.yinxin.ca.issue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.ca.CaException;
import io.yinxin.ca.profile.HierarchyConfig;
import io.yinxin.ca.profile.Profile;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DERPrintableString;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NamesTest {
  static final HierarchyConfig CONFIG = HierarchyConfig.defaults();
  static final Profile CITIZEN = CONFIG.profiles().get("citizen-sign");
  static final Profile ENTERPRISE = CONFIG.profiles().get("enterprise-seal");
  static final Profile TLS = CONFIG.profiles().get("server-tls-acme");

  @Test
  void chineseNameSurvivesAsUtf8StringAndIdNumberAsPrintableString() throws Exception {
    Names.Checked n =
        Names.build(
            CITIZEN, Map.of("name", "张三丰", "idNumber", "11010519491231002x"), List.of(), List.of());
    X500Name back = X500Name.getInstance(ASN1Primitive.fromByteArray(n.subject().getEncoded()));
    RDN cn = back.getRDNs(BCStyle.CN)[0];
    assertThat(cn.getFirst().getValue()).isInstanceOf(DERUTF8String.class);
    assertThat(cn.getFirst().getValue().toString()).isEqualTo("张三丰");
    RDN sn = back.getRDNs(BCStyle.SERIALNUMBER)[0];
    assertThat(sn.getFirst().getValue()).isInstanceOf(DERPrintableString.class);
    assertThat(sn.getFirst().getValue().toString()).isEqualTo("11010519491231002X");
    assertThat(n.summary()).doesNotContain("11010519491231002X").contains("1101");
  }

  @Test
  void wrongCheckCharacterIsRefusedNamingTheField() {
    assertThatThrownBy(
            () ->
                Names.build(
                    CITIZEN,
                    Map.of("name", "张三", "idNumber", "110105194912310021"),
                    List.of(),
                    List.of()))
        .isInstanceOfSatisfying(
            CaException.class,
            e -> {
              assertThat(e.code()).isEqualTo(CaException.Code.INVALID_IDENTITY);
              assertThat(e.field()).isEqualTo("subject.idNumber");
              assertThat(e.getMessage()).doesNotContain("110105194912310021");
            });
    assertThatThrownBy(
            () ->
                Names.build(
                    ENTERPRISE,
                    Map.of("organization", "某某公司", "creditCode", "91350100M000100Y44"),
                    List.of(),
                    List.of()))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.field()).isEqualTo("subject.creditCode"));
  }

  @Test
  void injectionAttemptStaysOneLiteralValue() {
    Names.Checked n =
        Names.build(
            CITIZEN,
            Map.of("name", "Zhang,CN=Root CA+O=evil", "idNumber", "11010519491231002X"),
            List.of(),
            List.of());
    assertThat(n.subject().getRDNs(BCStyle.CN)).hasSize(1);
    assertThat(n.subject().getRDNs(BCStyle.O)).isEmpty();
    assertThat(n.subject().getRDNs(BCStyle.CN)[0].getFirst().getValue().toString())
        .isEqualTo("Zhang,CN=Root CA+O=evil");
  }

  @ParameterizedTest
  @ValueSource(strings = {"a\u0000b", "a\nb", "a\u202Eb", " lead", "trail ", "", "a\u200Bb"})
  void controlAndInvisibleCharactersAreRefused(String name) {
    assertThatThrownBy(
            () ->
                Names.build(
                    CITIZEN,
                    Map.of("name", name, "idNumber", "11010519491231002X"),
                    List.of(),
                    List.of()))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.field()).isEqualTo("subject.name"));
  }

  @Test
  void overlongNamesAndUnknownOrMissingFieldsAreRefused() {
    assertThatThrownBy(
            () ->
                Names.build(
                    CITIZEN,
                    Map.of("name", "张".repeat(65), "idNumber", "11010519491231002X"),
                    List.of(),
                    List.of()))
        .isInstanceOf(CaException.class);
    assertThatThrownBy(
            () ->
                Names.build(
                    CITIZEN,
                    Map.of("name", "张三", "idNumber", "11010519491231002X", "O", "x"),
                    List.of(),
                    List.of()))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.field()).isEqualTo("subject.O"));
    assertThatThrownBy(() -> Names.build(CITIZEN, Map.of("name", "张三"), List.of(), List.of()))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.field()).isEqualTo("subject.idNumber"));
  }

  @Test
  void serverCertificatesNeedDnsNamesAndTakeTheFirstAsCommonName() {
    Names.Checked n =
        Names.build(TLS, Map.of(), List.of("WWW.Example.localhost", "a.b.cn"), List.of());
    assertThat(n.subject().getRDNs(BCStyle.CN)[0].getFirst().getValue().toString())
        .isEqualTo("www.example.localhost");
    assertThat(n.san()).isPresent();
    assertThatThrownBy(() -> Names.build(TLS, Map.of(), List.of(), List.of()))
        .isInstanceOfSatisfying(CaException.class, e -> assertThat(e.field()).isEqualTo("san.dns"));
    assertThatThrownBy(
            () ->
                Names.build(
                    CITIZEN,
                    Map.of("name", "a", "idNumber", "11010519491231002X"),
                    List.of("a.cn"),
                    List.of()))
        .isInstanceOfSatisfying(CaException.class, e -> assertThat(e.field()).isEqualTo("san.dns"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "*.example.com",
        "example",
        "exa mple.com",
        "-a.com",
        "a-.com",
        "a..com",
        "a.com.",
        "127.0.0.1",
        "例子.cn",
        "a_b.com",
        "x.com\u0000.evil"
      })
  void badDnsNamesAreRefused(String dns) {
    assertThatThrownBy(() -> Names.dnsName(dns)).isInstanceOf(CaException.class);
  }

  @Test
  void namesMadeOnlyOfInvisibleCharactersOrNotInNfcAreRefused() {
    String[] invisible = {
      "\u3164", // Hangul filler, a "letter" that shows nothing
      "\u3164\u3164",
      "\u115f\u1160",
      "\u2800", // braille blank
      "\u0301\u0302", // combining marks only
      "张三\ufe0f", // trailing variation selector
      "张\ufe00三",
      "\u0301张三", // starts with a combining mark
    };
    for (String name : invisible) {
      assertThatThrownBy(
              () ->
                  Names.build(
                      CITIZEN,
                      Map.of("name", name, "idNumber", "11010519491231002X"),
                      List.of(),
                      List.of()))
          .as("U+%04X…", name.codePointAt(0))
          .isInstanceOfSatisfying(
              CaException.class,
              e -> {
                assertThat(e.code()).isEqualTo(CaException.Code.INVALID_REQUEST);
                assertThat(e.field()).isEqualTo("subject.name");
              });
    }
    // The same name in two spellings: only the composed (NFC) one is taken.
    String decomposed = "Jose\u0301";
    assertThatThrownBy(
            () ->
                Names.build(
                    CITIZEN,
                    Map.of("name", decomposed, "idNumber", "11010519491231002X"),
                    List.of(),
                    List.of()))
        .isInstanceOfSatisfying(CaException.class, e -> assertThat(e.getMessage()).contains("NFC"));
    assertThat(
            Names.build(
                    CITIZEN,
                    Map.of("name", "Jos\u00e9", "idNumber", "11010519491231002X"),
                    List.of(),
                    List.of())
                .summary())
        .contains("José");
  }

  @Test
  void aDnsNameLongerThanACommonNameMayBeStaysInTheSanOnly() throws Exception {
    String longName = "a".repeat(60) + ".example.gov.cn"; // 75 characters, a valid DNS name
    Names.Checked n = Names.build(TLS, Map.of(), List.of(longName), List.of());
    assertThat(n.subject().getRDNs(BCStyle.CN)).isEmpty();
    assertThat(n.san()).isPresent();
    assertThat(n.san().get().getNames()[0].getName().toString()).isEqualTo(longName);
    String shortName = "www.example.gov.cn";
    assertThat(
            Names.build(TLS, Map.of(), List.of(shortName), List.of())
                .subject()
                .getRDNs(BCStyle.CN)[0]
                .getFirst()
                .getValue()
                .toString())
        .isEqualTo(shortName);
  }

  @Test
  void goodDnsNamesPass() {
    assertThat(Names.dnsName("xn--fsqu00a.xn--fiqs8s")).isEqualTo("xn--fsqu00a.xn--fiqs8s");
    assertThat(Names.dnsName("portal.gov.localhost")).isEqualTo("portal.gov.localhost");
    assertThat(Names.dnsName("a".repeat(63) + ".cn")).hasSize(66);
    assertThatThrownBy(() -> Names.dnsName("a".repeat(64) + ".cn")).isInstanceOf(CaException.class);
  }
}
