package io.yinxin.ca.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HierarchyConfigTest {
  @Test
  void theBuiltInHierarchyHasTheRequiredProfiles() {
    HierarchyConfig c = HierarchyConfig.defaults();
    assertThat(c.profiles())
        .containsKeys(
            "citizen-sign",
            "citizen-auth",
            "enterprise-seal",
            "server-tls",
            "server-tls-acme",
            "ocsp-signer",
            "tsa",
            "enterprise-seal-sm2",
            "tsa-sm2");
    assertThat(c.profiles().get("server-tls").channels()).containsExactly(Profile.Channel.REST);
    assertThat(c.profiles().get("server-tls-acme").channels())
        .containsExactly(Profile.Channel.ACME);
    assertThat(c.profiles().get("tsa").channels()).containsExactly(Profile.Channel.HIERARCHY);
    assertThat(c.profiles().get("ocsp-signer").channels())
        .containsExactly(Profile.Channel.HIERARCHY);
    assertThat(c.cas())
        .extracting(CaConfig::name)
        .startsWith("root")
        .contains("sm2-root", "sm2-citizen", "sm2-enterprise");
    assertThat(c.services())
        .extracting(HierarchyConfig.ServiceCert::name)
        .containsExactly("tsa", "tsa-sm2");
    assertThat(c.profiles().get("tsa-sm2").extendedKeyUsageCritical()).isTrue();
    assertThat(c.profiles().get("enterprise-seal").extendedKeyUsage())
        .containsExactly("1.3.6.1.5.5.7.3.36", "1.3.6.1.5.5.7.3.4");
    assertThat(c.profiles().get("tsa").extendedKeyUsageCritical()).isTrue();
  }

  @Test
  void mistakesAreReportedWithWhereTheyAre() {
    assertThatThrownBy(
            () -> parse("cas:\n  - {name: a, parent: b, subject: 'CN=a', key: EC_P256}\n"))
        .hasMessageContaining("ca a")
        .hasMessageContaining("parent 'b'");
    assertThatThrownBy(() -> parse("cas:\n  - {name: a, subject: 'CN=a', key: EC_P521}\n"))
        .hasMessageContaining("ca a.key");
    String ca = "cas:\n  - {name: a, subject: 'CN=a', key: EC_P256}\n";
    assertThatThrownBy(
            () ->
                parse(
                    ca
                        + "profiles:\n  p:\n    issuer: nobody\n    key-types: [EC_P256]\n"
                        + "    validity-days: 1\n    subject: ['CN={name}']\n"))
        .hasMessageContaining("profile p")
        .hasMessageContaining("nobody");
    assertThatThrownBy(
            () ->
                parse(
                    ca
                        + "profiles:\n  p:\n    issuer: a\n    key-types: [EC_P256]\n"
                        + "    validity-days: 1\n    subject: ['CN={password}']\n"))
        .hasMessageContaining("{password}");
    assertThatThrownBy(
            () ->
                parse(
                    ca
                        + "profiles:\n  p:\n    issuer: a\n    key-types: [RSA]\n    rsa-min-bits: 1024\n"
                        + "    validity-days: 1\n    subject: ['CN={name}']\n"))
        .hasMessageContaining("2048");
    assertThatThrownBy(() -> parse("cas: []\n")).hasMessageContaining("no CAs");
    // SafeConstructor: a global tag naming a Java class is refused before anything is built.
    assertThatThrownBy(() -> parse("!!java.lang.Object {}\n"))
        .isInstanceOf(org.yaml.snakeyaml.error.YAMLException.class)
        .hasMessageContaining("Global tag is not allowed");
    assertThatThrownBy(() -> parse("!!javax.script.ScriptEngineManager [[]]\n"))
        .isInstanceOf(org.yaml.snakeyaml.error.YAMLException.class)
        .hasMessageContaining("Global tag is not allowed");
  }

  /**
   * A service key its profile would not certify is refused when the file is read, before any key is
   * made (found only at the certificate, each start left one more key in the backend); so is a CA
   * whose OCSP signer's key the ocsp-signer profile would not certify.
   */
  @Test
  void aServiceKeyItsProfileWouldNotCertifyIsRefusedWhenTheFileIsRead() {
    String ca = "cas:\n  - {name: a, subject: 'CN=a', key: EC_P256}\n";
    String profiles =
        "profiles:\n"
            + "  ocsp-signer:\n    issuer: '*'\n    key-types: [EC_P256]\n"
            + "    validity-days: 1\n    subject: ['CN={name}']\n"
            + "  svc:\n    issuer: a\n    key-types: [EC_P256]\n"
            + "    validity-days: 1\n    subject: ['CN={name}']\n";
    String fine = "services:\n  - {name: s, profile: svc, subject: 'CN=s', key: EC_P256}\n";
    assertThat(parse(ca + profiles + fine).services()).hasSize(1);
    for (String key : new String[] {"RSA_3072", "ED25519", "SM2", "EC_P384"}) {
      assertThatThrownBy(
              () ->
                  parse(
                      ca
                          + profiles
                          + "services:\n  - {name: s, profile: svc, subject: 'CN=s', key: "
                          + key
                          + "}\n"))
          .as(key)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("service s.key")
          .hasMessageContaining("profile svc accepts [EC_P256], not " + key);
    }
    assertThatThrownBy(
            () -> parse(ca + "  - {name: g, subject: 'CN=g', key: SM2}\n" + profiles + fine))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ca g (its OCSP signer's key)")
        .hasMessageContaining("not SM2");
  }

  private static HierarchyConfig parse(String yaml) {
    return HierarchyConfig.parse(
        new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "test.yml");
  }
}
