package io.yinxin.sso.account;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.security.web.authentication.WebAuthenticationDetails;

/**
 * Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
 * signed in to an account with its password (and its second factor, if it has one) gets a cookie
 * naming that sign-in, and from then on its attempts at that account are counted against the
 * cookie, not against the account. Anyone who knows a username can send five wrong passwords and
 * block the account for everyone else; the account's owner, from a browser that signed in before,
 * still signs in. A cookie that sees five failures itself is blocked like an account, and its
 * browser then counts as any other.
 *
 * <p>The cookie ({@value #COOKIE}, path {@code /login}, HttpOnly, SameSite=Strict, Secure over
 * https) holds when it was issued, 16 random bytes and an HMAC-SHA256 over both, the canonical
 * username and the account's stored password hash, under a key derived from the client secret key,
 * which every node shares; neither the username nor the hash is in it. It is valid for {@link
 * #LIFETIME}, only for the account it was issued for, and only until that account's password
 * changes (a new password has a new salted hash): whoever held a cookie from before a change, after
 * a compromise say, is a stranger again. Nothing is stored until a cookie sees a failure.
 */
public final class DeviceCookies {
  public static final String COOKIE = "YINXIN_DEVICE";

  /** How long a device cookie vouches for its browser. */
  public static final Duration LIFETIME = Duration.ofDays(180);

  private static final int NONCE = 16;
  private static final int MAC = 32;
  private static final int LENGTH = 8 + NONCE + MAC;
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  /** The details of a form sign-in, with the device cookie its browser sent (or null). */
  public static final class Details extends WebAuthenticationDetails {
    private static final long serialVersionUID = 1L;

    private final String deviceCookie;

    Details(HttpServletRequest request) {
      super(request);
      String found = null;
      if (request.getCookies() != null) {
        for (Cookie c : request.getCookies()) {
          if (COOKIE.equals(c.getName())) {
            found = c.getValue();
          }
        }
      }
      this.deviceCookie = found;
    }

    String deviceCookie() {
      return deviceCookie;
    }

    /**
     * The same details without the cookie, for the signed-in authentication: that one is kept in
     * the session and, as JSON, with every authorization, which need neither the cookie nor a type
     * of ours.
     */
    WebAuthenticationDetails withoutCookie() {
      return new WebAuthenticationDetails(getRemoteAddress(), getSessionId());
    }
  }

  private final SecretKeySpec key;
  private final java.util.function.Function<String, Optional<String>> passwordHash;
  private final Clock clock;

  /**
   * @param clientSecretKey the client secret key (at least 32 bytes); the cookies' key is derived
   *     from it, never it
   * @param accounts where each account's stored password hash is read
   */
  public DeviceCookies(byte[] clientSecretKey, Accounts accounts, Clock clock) {
    this(clientSecretKey, accounts::passwordHash, clock);
  }

  /** With the stored password hash of a canonical username from {@code passwordHash}. */
  DeviceCookies(
      byte[] clientSecretKey,
      java.util.function.Function<String, Optional<String>> passwordHash,
      Clock clock) {
    if (clientSecretKey.length < 32) {
      throw new IllegalArgumentException("the client secret key needs at least 32 bytes");
    }
    this.key =
        new SecretKeySpec(
            hmac(
                new SecretKeySpec(clientSecretKey, "HmacSHA256"),
                "yinxin-sso device cookie key v1".getBytes(StandardCharsets.UTF_8)),
            "HmacSHA256");
    this.passwordHash = passwordHash;
    this.clock = clock;
  }

  /** The form login's details source: the request's address, session and device cookie. */
  public static org.springframework.security.authentication.AuthenticationDetailsSource<
          HttpServletRequest, Details>
      detailsSource() {
    return Details::new;
  }

  /**
   * A new cookie value for a browser that has just signed in as {@code username}; empty if the
   * account has no password (it is gone).
   */
  Optional<String> issue(String username) {
    Optional<String> hash = passwordHash.apply(username);
    if (hash.isEmpty()) {
      return Optional.empty();
    }
    byte[] value = new byte[LENGTH];
    ByteBuffer.wrap(value).putLong(clock.instant().getEpochSecond());
    byte[] nonce = new byte[NONCE];
    io.yinxin.hsm.Randomness.current().nextBytes(nonce);
    System.arraycopy(nonce, 0, value, 8, NONCE);
    System.arraycopy(mac(username, hash.get(), value), 0, value, 8 + NONCE, MAC);
    return Optional.of(B64.encodeToString(value));
  }

  /**
   * The device a cookie value names ({@code device:} and its random bytes in hex), if it was issued
   * for {@code username} by a node holding the same key, less than {@link #LIFETIME} ago, and the
   * account's password has not changed since. Anything else (another account's cookie, an altered
   * or expired one, not base64url at all) is empty: the attempt then counts as one from an unknown
   * browser.
   */
  Optional<String> device(String cookie, String username) {
    if (cookie == null || username == null || cookie.length() != (LENGTH * 4 + 2) / 3) {
      return Optional.empty();
    }
    byte[] value;
    try {
      value = Base64.getUrlDecoder().decode(cookie);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    // Only the one spelling issue() writes: no other base64 text decodes to the same bytes.
    if (value.length != LENGTH || !B64.encodeToString(value).equals(cookie)) {
      return Optional.empty();
    }
    Optional<String> hash = passwordHash.apply(username);
    if (hash.isEmpty()) {
      return Optional.empty();
    }
    byte[] expected = mac(username, hash.get(), value);
    byte[] given = java.util.Arrays.copyOfRange(value, 8 + NONCE, LENGTH);
    if (!MessageDigest.isEqual(expected, given)) {
      return Optional.empty();
    }
    Instant issued = Instant.ofEpochSecond(ByteBuffer.wrap(value).getLong());
    Instant now = clock.instant();
    if (issued.isAfter(now.plusSeconds(300)) || !issued.plus(LIFETIME).isAfter(now)) {
      return Optional.empty();
    }
    return Optional.of("device:" + HexFormat.of().formatHex(value, 8, 8 + NONCE));
  }

  /**
   * Sets a new device cookie on a browser that has just completed its sign-in as {@code username},
   * every factor the account has: a browser that only knew the password of an account with a second
   * factor vouches for nothing yet ({@link SecondFactorLogin} calls this after the second step).
   */
  public void issueTo(HttpServletRequest request, HttpServletResponse response, String username) {
    Accounts.canonical(username).flatMap(this::issue).ifPresent(v -> set(request, response, v));
  }

  private static void set(HttpServletRequest request, HttpServletResponse response, String value) {
    response.addHeader(
        "Set-Cookie",
        org.springframework.http.ResponseCookie.from(COOKIE, value)
            .path("/login")
            .maxAge(LIFETIME)
            .httpOnly(true)
            .secure(request.isSecure())
            .sameSite("Strict")
            .build()
            .toString());
  }

  /** HMAC over issue time and nonce, the username, a zero byte and the password hash. */
  private byte[] mac(String username, String passwordHash, byte[] value) {
    byte[] name = (username + '\0' + passwordHash).getBytes(StandardCharsets.UTF_8);
    byte[] input = new byte[8 + NONCE + name.length];
    System.arraycopy(value, 0, input, 0, 8 + NONCE);
    System.arraycopy(name, 0, input, 8 + NONCE, name.length);
    return hmac(key, input);
  }

  private static byte[] hmac(SecretKeySpec key, byte[] input) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(key);
      return m.doFinal(input);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is unavailable", e);
    }
  }
}
