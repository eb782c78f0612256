package io.yinxin.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyRefTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "pkcs11:token=yinxin;object=citizen-ca-2026",
        "pkcs11:token=my%20token;object=%E5%8D%B0%E4%BF%A1",
        "vault-transit:ca-root",
        "vault-transit:ca-root?version=3",
        "soft:citizen-ca-2026"
      })
  void uriRoundTrips(String uri) {
    KeyRef ref = KeyRef.parse(uri);
    assertThat(KeyRef.parse(ref.toString())).isEqualTo(ref);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "pkcs11:token=yinxin;object=x;pin-value=1234",
        "pkcs11:token=yinxin;object=x?pin-value=1234",
        "pkcs11:object=x",
        "pkcs11:token=yinxin;object=x;object=y",
        "pkcs11:token=yinxin;object=%zz",
        "pkcs11:token=yinxin;object=x;type=secret-key",
        "soft:../../etc/passwd",
        "soft:",
        "vault-transit:a/b",
        "vault-transit:ca?version=0",
        "vault-transit:ca?version=1&x=2",
        "file:/etc/passwd",
        "no-scheme"
      })
  void badUrisAreInvalidRequests(String uri) {
    assertThatThrownBy(() -> KeyRef.parse(uri))
        .isInstanceOfSatisfying(
            KeyException.class,
            e -> {
              assertThat(e.code()).isEqualTo(KeyException.Code.INVALID_REQUEST);
              assertThat(e.getMessage()).doesNotContain("1234");
            });
  }

  @ParameterizedTest
  @ValueSource(strings = {"vault-transit://ca-root", "soft://dev"})
  void designDocSlashFormIsAccepted(String uri) {
    assertThat(KeyRef.parse(uri).label()).doesNotStartWith("/");
  }
}
