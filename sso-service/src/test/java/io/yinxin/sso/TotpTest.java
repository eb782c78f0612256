package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sso.account.Totp;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** TOTP against the published vectors: RFC 6238 Appendix B and RFC 4648 §10 (base32). */
class TotpTest {
  private static final byte[] SEED = "12345678901234567890".getBytes(StandardCharsets.US_ASCII);

  @Test
  void rfc6238AppendixBSha1Vectors() {
    long[][] vectors = {
      {59L, 94287082L},
      {1111111109L, 7081804L},
      {1111111111L, 14050471L},
      {1234567890L, 89005924L},
      {2000000000L, 69279037L},
      {20000000000L, 65353130L}
    };
    for (long[] v : vectors) {
      assertThat(Totp.hotp(SEED, Totp.step(v[0]), 8))
          .as("T=" + v[0])
          .isEqualTo(String.format("%08d", v[1]));
    }
  }

  @Test
  void rfc4226AppendixDHotpValues() {
    String[] expected = {
      "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
      "520489"
    };
    for (int i = 0; i < expected.length; i++) {
      assertThat(Totp.hotp(SEED, i, 6)).as("count " + i).isEqualTo(expected[i]);
    }
  }

  @Test
  void rfc4648Base32Vectors() {
    String[][] vectors = {
      {"", ""},
      {"f", "MY"},
      {"fo", "MZXQ"},
      {"foo", "MZXW6"},
      {"foob", "MZXW6YQ"},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI"}
    };
    for (String[] v : vectors) {
      assertThat(Totp.base32(v[0].getBytes(StandardCharsets.US_ASCII))).isEqualTo(v[1]);
    }
  }

  @Test
  void aCodeMatchesItsStepAndTheNeighboursOnlyAndNothingElse() {
    long now = Totp.step(1_700_000_000L);
    for (long s = now - 1; s <= now + 1; s++) {
      assertThat(Totp.matchingStep(SEED, Totp.hotp(SEED, s, 6), now)).isEqualTo(s);
    }
    assertThat(Totp.matchingStep(SEED, Totp.hotp(SEED, now - 2, 6), now)).isEqualTo(-1);
    assertThat(Totp.matchingStep(SEED, Totp.hotp(SEED, now + 2, 6), now)).isEqualTo(-1);
    String good = Totp.hotp(SEED, now, 6);
    for (String bad :
        new String[] {
          null, "", good + "0", good.substring(1), " " + good.substring(1), "12345a", "１２３４５６"
        }) {
      assertThat(Totp.matchingStep(SEED, bad, now)).as(String.valueOf(bad)).isEqualTo(-1);
    }
  }

  @Test
  void theOtpauthUriCarriesTheIssuerAccountAndBase32Secret() {
    assertThat(Totp.otpauthUri("印信 Yinxin", "ada", "foobar".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo(
            "otpauth://totp/%E5%8D%B0%E4%BF%A1%20Yinxin:ada?secret=MZXW6YTBOI"
                + "&issuer=%E5%8D%B0%E4%BF%A1%20Yinxin&algorithm=SHA1&digits=6&period=30");
  }
}
