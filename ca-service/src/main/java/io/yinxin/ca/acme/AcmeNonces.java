package io.yinxin.ca.acme;

import com.nimbusds.jose.util.Base64URL;
import io.yinxin.hsm.Randomness;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Replay nonces (RFC 8555 §6.5) that cost nothing to hand out: a nonce is {@code base64url(expiry ‖
 * 12 random octets ‖ HMAC-SHA256(key, expiry ‖ random)[0..16])}, so any node holding the shared key
 * can tell a nonce of this CA from a made-up one without looking it up. Only a nonce that is
 * <em>used</em> is stored, until it expires, and its primary key refuses the second use on every
 * node. An unauthenticated flood of {@code new-nonce} requests therefore stores nothing (the way
 * Boulder's nonce service keeps no row per nonce handed out), and what is stored is bounded by the
 * rate of signed requests, which {@link AcmeRateLimits} bounds per address.
 */
final class AcmeNonces {
  static final Duration LIFETIME = Duration.ofHours(1);
  private static final int EXPIRY = 8;
  private static final int RANDOM = 12;
  private static final int TAG = 16;
  private static final int ENCODED = (EXPIRY + RANDOM + TAG) * 4 / 3;

  private final AcmeStore store;
  private final SecretKeySpec key;
  private final Clock clock;

  AcmeNonces(AcmeStore store, byte[] key, Clock clock) {
    if (key.length < 32) {
      throw new IllegalArgumentException("the nonce key has at least 32 octets");
    }
    this.store = store;
    this.key = new SecretKeySpec(key, "HmacSHA256");
    this.clock = clock;
  }

  /** A fresh nonce, valid on every node for {@link #LIFETIME}. */
  String issue() {
    ByteBuffer b = ByteBuffer.allocate(EXPIRY + RANDOM + TAG);
    b.putLong(clock.instant().plus(LIFETIME).getEpochSecond());
    byte[] random = new byte[RANDOM];
    Randomness.current().nextBytes(random);
    b.put(random);
    b.put(tag(Arrays.copyOf(b.array(), EXPIRY + RANDOM)));
    return Base64URL.encode(b.array()).toString();
  }

  /**
   * Uses a nonce up.
   *
   * @return true if this CA made it, it has not expired and it was not used before (on any node)
   */
  boolean use(String nonce) {
    if (nonce == null || nonce.length() != ENCODED) {
      return false;
    }
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(nonce);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (raw.length != EXPIRY + RANDOM + TAG
        || !MessageDigest.isEqual(
            tag(Arrays.copyOf(raw, EXPIRY + RANDOM)),
            Arrays.copyOfRange(raw, EXPIRY + RANDOM, raw.length))) {
      return false;
    }
    Instant expires = Instant.ofEpochSecond(ByteBuffer.wrap(raw, 0, EXPIRY).getLong());
    if (!expires.isAfter(clock.instant())) {
      return false;
    }
    return store.markNonceUsed(nonce, expires);
  }

  private byte[] tag(byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return Arrays.copyOf(mac.doFinal(data), TAG);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is unavailable", e);
    }
  }
}
