package io.yinxin.sso.client;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * Client secrets stored as HMAC-SHA256 under a server key. Yinxin generates every client secret
 * with 256 bits of entropy, so a slow password hash protects nothing more and costs every token
 * request (BCrypt, the upstream default, ~55 ms); the key keeps a copied table useless without it.
 * Comparison is in constant time. Not for user passwords, which are chosen by people.
 */
public final class KeyedSecretEncoder implements PasswordEncoder {
  static final String PREFIX = "{hmac-sha256}";
  private final SecretKeySpec key;

  public KeyedSecretEncoder(byte[] key) {
    if (key.length < 32) {
      throw new IllegalArgumentException("the client secret key needs at least 32 bytes");
    }
    this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
  }

  @Override
  public String encode(CharSequence rawSecret) {
    return PREFIX + Base64.getEncoder().withoutPadding().encodeToString(mac(rawSecret));
  }

  @Override
  public boolean matches(CharSequence rawSecret, String encoded) {
    if (rawSecret == null || encoded == null || !encoded.startsWith(PREFIX)) {
      return false;
    }
    byte[] stored;
    try {
      stored = Base64.getDecoder().decode(encoded.substring(PREFIX.length()));
    } catch (IllegalArgumentException e) {
      return false;
    }
    return MessageDigest.isEqual(stored, mac(rawSecret));
  }

  private byte[] mac(CharSequence raw) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(key);
      return m.doFinal(raw.toString().getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256", e);
    }
  }
}
