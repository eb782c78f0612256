package io.yinxin.audit.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.timestamp.OpenSslTsa;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JDK-only RFC 3161 check in audit-verify, on replies from a real TSA (OpenSSL's): a good reply
 * verifies with its time; other data, another TSA, a changed time, a damaged signature and garbage
 * are refused.
 */
class TimestampCheckTest {
  private static final byte[] DATA =
      "yinxin.test/audit\n42\nAAAA\n\n— yinxin.test/audit sig\n".getBytes(StandardCharsets.UTF_8);
  private static OpenSslTsa tsa;
  private static OpenSslTsa other;
  private static X509Certificate tsaCert;
  private static X509Certificate otherCert;

  @BeforeAll
  static void start() throws Exception {
    tsa = new OpenSslTsa("Verify Test TSA");
    other = new OpenSslTsa("Another TSA");
    tsaCert = pem(tsa);
    otherCert = pem(other);
  }

  @AfterAll
  static void stop() {
    tsa.close();
    other.close();
  }

  private static X509Certificate pem(OpenSslTsa t) throws Exception {
    String text = Files.readString(t.certificate());
    String b64 = text.replaceAll("-----(BEGIN|END) CERTIFICATE-----", "").replaceAll("\\s", "");
    return TimestampCheck.certificate(java.util.Base64.getDecoder().decode(b64));
  }

  @Test
  void aReplyFromTheTrustedTsaOverTheDataVerifiesWithItsTime() throws Exception {
    Instant before = Instant.now().minusSeconds(5);
    TimestampCheck.Verified v = TimestampCheck.verify(tsa.stamp(DATA), DATA, tsaCert);
    assertThat(v.time()).isBetween(before, Instant.now().plus(Duration.ofSeconds(5)));
    assertThat(v.tsa()).contains("CN=Verify Test TSA");
  }

  @Test
  void otherDataOrAnotherTsaIsRefused() throws Exception {
    byte[] reply = tsa.stamp(DATA);
    byte[] changed = DATA.clone();
    changed[20] ^= 1;
    assertThatThrownBy(() -> TimestampCheck.verify(reply, changed, tsaCert))
        .hasMessageContaining("over other data");
    assertThatThrownBy(() -> TimestampCheck.verify(reply, DATA, otherCert))
        .hasMessageContaining("not by the TSA certificate given");
    assertThatThrownBy(() -> TimestampCheck.verify(other.stamp(DATA), DATA, tsaCert))
        .hasMessageContaining("not by the TSA certificate given");
  }

  @Test
  void aChangedTimeOrADamagedSignatureIsRefused() throws Exception {
    byte[] reply = tsa.stamp(DATA);
    String year = String.valueOf(java.time.Year.now(java.time.ZoneOffset.UTC).getValue());
    int at = indexOf(reply, year.getBytes(StandardCharsets.US_ASCII));
    assertThat(at).isPositive();
    byte[] later = reply.clone();
    later[at + 3]++; // one year later, inside the signed TSTInfo
    // The time is inside the signed TSTInfo: its digest no longer matches the signed attributes.
    assertThatThrownBy(() -> TimestampCheck.verify(later, DATA, tsaCert))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageMatching(
            "the token's (signed attributes do not match its TSTInfo|signature does not verify)");
    byte[] damaged = reply.clone();
    damaged[damaged.length - 1] ^= 0x01; // the last byte of the signature
    assertThatThrownBy(() -> TimestampCheck.verify(damaged, DATA, tsaCert))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the token's signature does not verify");
  }

  @Test
  void garbageAndTruncatedRepliesAreRefused() throws Exception {
    byte[] reply = tsa.stamp(DATA);
    assertThatThrownBy(
            () -> TimestampCheck.verify("not der".getBytes(StandardCharsets.UTF_8), DATA, tsaCert))
        .isInstanceOf(IllegalArgumentException.class);
    for (int cut = 0; cut < reply.length; cut += 7) {
      byte[] truncated = java.util.Arrays.copyOf(reply, cut);
      assertThatThrownBy(() -> TimestampCheck.verify(truncated, DATA, tsaCert))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
