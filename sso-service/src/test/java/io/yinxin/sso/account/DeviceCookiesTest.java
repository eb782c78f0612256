package io.yinxin.sso.account;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * Device cookie values, checked against the construction their Javadoc states, computed here with
 * the JDK's HMAC: 8 bytes of issue time, 16 random bytes, HMAC-SHA256 over those, the canonical
 * username, a zero byte and the account's stored password hash, under HMAC-SHA256(client secret
 * key, "yinxin-sso device cookie key v1").
 */
class DeviceCookiesTest {
  private static final Instant NOW = Instant.parse("2026-12-06T08:00:00Z");
  private final byte[] key = HexFormat.of().parseHex("00112233445566778899aabbccddeeff".repeat(2));

  /** Stored password hashes by username, as sso.accounts would hold them. */
  private final java.util.Map<String, String> hashes =
      new java.util.HashMap<>(
          java.util.Map.of(
              "owner", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
              "other", "$argon2id$v=19$m=19456,t=2,p=1$b3RoZXJzYWx0$b3RoZXJoYXNo"));

  private DeviceCookies at(Instant t) {
    return new DeviceCookies(
        key, u -> java.util.Optional.ofNullable(hashes.get(u)), Clock.fixed(t, ZoneOffset.UTC));
  }

  private static byte[] hmac(byte[] k, byte[]... parts) throws Exception {
    Mac m = Mac.getInstance("HmacSHA256");
    m.init(new SecretKeySpec(k, "HmacSHA256"));
    for (byte[] p : parts) {
      m.update(p);
    }
    return m.doFinal();
  }

  @Test
  void aValueIsTheStatedConstructionAndVouchesForItsAccountOnly() throws Exception {
    String cookie = at(NOW).issue("owner").orElseThrow();
    byte[] v = Base64.getUrlDecoder().decode(cookie);
    assertThat(v).hasSize(56);
    assertThat(ByteBuffer.wrap(v).getLong()).isEqualTo(NOW.getEpochSecond());
    byte[] derived = hmac(key, "yinxin-sso device cookie key v1".getBytes(StandardCharsets.UTF_8));
    byte[] mac =
        hmac(
            derived,
            java.util.Arrays.copyOfRange(v, 0, 24),
            ("owner\0" + hashes.get("owner")).getBytes(StandardCharsets.UTF_8));
    assertThat(java.util.Arrays.copyOfRange(v, 24, 56)).isEqualTo(mac);

    assertThat(at(NOW).device(cookie, "owner"))
        .contains("device:" + HexFormat.of().formatHex(v, 8, 24));
    assertThat(at(NOW).device(cookie, "other")).isEmpty();
    assertThat(at(NOW).device(cookie, "owner2")).isEmpty();
    // two sign-ins, two devices
    assertThat(at(NOW).device(at(NOW).issue("owner").orElseThrow(), "owner"))
        .isNotEqualTo(at(NOW).device(cookie, "owner"));
    // under another client secret key, nothing
    byte[] other = key.clone();
    other[0] ^= 1;
    assertThat(
            new DeviceCookies(
                    other,
                    u -> java.util.Optional.ofNullable(hashes.get(u)),
                    Clock.fixed(NOW, ZoneOffset.UTC))
                .device(cookie, "owner"))
        .isEmpty();
  }

  @Test
  void everyAlteredBitAndEveryOtherSpellingIsRefused() {
    DeviceCookies d = at(NOW);
    String cookie = d.issue("owner").orElseThrow();
    byte[] v = Base64.getUrlDecoder().decode(cookie);
    for (int i = 0; i < v.length * 8; i++) {
      byte[] x = v.clone();
      x[i / 8] ^= (byte) (1 << (i % 8));
      String altered = Base64.getUrlEncoder().withoutPadding().encodeToString(x);
      assertThat(d.device(altered, "owner")).as("bit %d", i).isEmpty();
    }
    // 56 bytes are 75 base64url characters; the last carries 2 unused bits, which a decoder may
    // ignore: those spellings name the same bytes and are refused all the same.
    char last = cookie.charAt(74);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int index = alphabet.indexOf(last);
    for (int bits = 1; bits < 4; bits++) {
      String spelled = cookie.substring(0, 74) + alphabet.charAt(index ^ bits);
      assertThat(d.device(spelled, "owner")).as("unused bits %d", bits).isEmpty();
    }
    assertThat(d.device(cookie + "=", "owner")).isEmpty();
    // the standard alphabet's spelling of the same bytes
    String urlSafe = cookie;
    while (urlSafe.indexOf('-') < 0 && urlSafe.indexOf('_') < 0) {
      urlSafe = d.issue("owner").orElseThrow();
    }
    assertThat(d.device(urlSafe, "owner")).isPresent();
    assertThat(d.device(urlSafe.replace('-', '+').replace('_', '/'), "owner")).isEmpty();
    assertThat(d.device(cookie.substring(1), "owner")).isEmpty();
    assertThat(d.device(cookie + "A", "owner")).isEmpty();
    assertThat(d.device("", "owner")).isEmpty();
    assertThat(d.device(null, "owner")).isEmpty();
    assertThat(d.device("%".repeat(75), "owner")).isEmpty();
  }

  @Test
  void aCookieLastsHalfAYearAndOneFromTheFutureIsNotTaken() {
    String cookie = at(NOW).issue("owner").orElseThrow();
    assertThat(at(NOW.plus(Duration.ofDays(180)).minusSeconds(1)).device(cookie, "owner"))
        .isPresent();
    assertThat(at(NOW.plus(Duration.ofDays(180))).device(cookie, "owner")).isEmpty();
    // a node whose clock is up to five minutes behind still takes it; a day behind does not
    assertThat(at(NOW.minusSeconds(299)).device(cookie, "owner")).isPresent();
    assertThat(at(NOW.minus(Duration.ofDays(1))).device(cookie, "owner")).isEmpty();
  }

  @Test
  void aNewPasswordForgetsEveryBrowserAndAGoneAccountHasNone() {
    String cookie = at(NOW).issue("owner").orElseThrow();
    assertThat(at(NOW).device(cookie, "owner")).isPresent();
    hashes.put("owner", "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA");
    assertThat(at(NOW).device(cookie, "owner")).isEmpty();
    hashes.remove("owner");
    assertThat(at(NOW).device(cookie, "owner")).isEmpty();
    assertThat(at(NOW).issue("owner")).isEmpty();
  }

  @Test
  void aShortKeyIsRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                new DeviceCookies(new byte[16], u -> java.util.Optional.of("h"), Clock.systemUTC()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
