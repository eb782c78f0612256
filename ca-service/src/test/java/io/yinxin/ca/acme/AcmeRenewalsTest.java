package io.yinxin.ca.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The certID of RFC 9773 §4.1, read as its example (Appendix A's certificate) spells it. */
class AcmeRenewalsTest {
  @Test
  void theRfcsExampleCertIdNamesItsKeyIdentifierAndSerial() {
    AcmeRenewals.CertId id = AcmeRenewals.parse("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    assertThat(HexFormat.of().formatHex(id.keyIdentifier()))
        .isEqualTo("69885b6b87464041e1b37b847ba0ae2cde01c8d4");
    assertThat(id.serial()).isEqualTo(new BigInteger("87654321", 16));
  }

  /** Every other spelling of the example, and what names no positive serial, is malformed. */
  @Test
  void otherSpellingsOfTheSameCertificateAreRefused() {
    for (String bad :
        new String[] {
          "aYhba4dGQEHhs3uEe6CuLN4ByNQ=.AIdlQyE", // padding
          "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE=",
          "aYhba4dGQEHhs3uEe6CuLN4ByNR.AIdlQyE", // bits past the last octet: the same octets
          "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyF",
          "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AACHZUMh", // 00 00 87 65 43 21: not minimal
          "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AAE", // 00 01: not minimal
          "aYhba4dGQEHhs3uEe6CuLN4ByNQ.h2VDIQ", // 87 65 43 21: negative
          "aYhba4dGQEHhs3uEe6CuLN4ByNQ+.AIdlQyE", // base64, not base64url
          "aYhba4dGQEHhs3uEe6CuLN4ByNQ",
          ".AIdlQyE",
          "aYhba4dGQEHhs3uEe6CuLN4ByNQ.",
          "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE.AIdlQyE",
          "A".repeat(87) + ".AIdlQyE",
        }) {
      assertThatThrownBy(() -> AcmeRenewals.parse(bad))
          .as(bad)
          .isInstanceOfSatisfying(
              AcmeProblem.class,
              p -> {
                assertThat(p.type()).isEqualTo("malformed");
                assertThat(p.status()).isEqualTo(400);
              });
    }
  }
}
