package io.yinxin.ca.acme;

import io.yinxin.audit.access.TokenBuckets;
import io.yinxin.audit.access.TokenBuckets.Bucket;
import java.util.function.LongSupplier;

/**
 * Rate limits of the ACME server, as token buckets: each key may spend {@code burst} at once and
 * gets {@code rate} back per period. IPv6 addresses count by their /64, as one host usually holds a
 * whole /64; new accounts also count by the /48 around it, the block a site is usually given (and a
 * tunnel broker hands out for free), which would otherwise hold 65,536 /64s each with its own
 * allowance (Let's Encrypt limits new registrations per /48 likewise).
 *
 * <p>Requests per address are counted per node, in memory ({@link TokenBuckets}, bounded in
 * number): they guard each node's processors on every request, so they stay off the database, and
 * behind a load balancer with n nodes a client may send n times the figure. The hourly limits — new
 * accounts per address and per /48, new orders and failed validations per account — guard what all
 * nodes share (rows that stay, fetches the validators make), so they are counted for all nodes
 * together in the database ({@link SharedBuckets}), as Boulder counts its limits in a store its
 * processes share. An address is kept there only as an HMAC under a key the nodes share, not as
 * itself.
 */
final class AcmeRateLimits {
  /**
   * The limits; each count is per source address or per account.
   *
   * @param requestsPerSecond signed requests and new-nonce requests per address per second, per
   *     node
   * @param requestBurst the most requests an address may send at once, per node
   * @param newAccountsPerHour accounts an address may create per hour
   * @param newAccountsPerIpv6RangePerHour accounts all the addresses of one IPv6 /48 may create per
   *     hour together
   * @param newOrdersPerHour orders an account may create per hour
   * @param failedValidationsPerHour failed challenge validations an account may have per hour;
   *     beyond it, challenges are refused until the bucket refills
   */
  record Limits(
      int requestsPerSecond,
      int requestBurst,
      int newAccountsPerHour,
      int newAccountsPerIpv6RangePerHour,
      int newOrdersPerHour,
      int failedValidationsPerHour) {
    Limits {
      if (requestsPerSecond < 1
          || requestBurst < 1
          || newAccountsPerHour < 1
          || newAccountsPerIpv6RangePerHour < 1
          || newOrdersPerHour < 1
          || failedValidationsPerHour < 1) {
        throw new IllegalArgumentException("every ACME rate limit is at least 1");
      }
    }
  }

  /** The shared buckets' kinds, as stored. */
  static final String NEW_ACCOUNT = "new_account";

  static final String NEW_ORDER = "new_order";
  static final String FAILED_VALIDATION = "failed_validation";

  /** Every shared bucket is full again an hour after its last take; purged after two. */
  static final long SHARED_PURGE_AFTER_MILLIS = 2 * 3600_000L;

  private static final int HOUR = 3600;

  private final Limits limits;
  private final TokenBuckets<String> requests;
  private final SharedBuckets shared;
  private final byte[] addressKey;

  /**
   * @param nanos the monotonic clock of the per-node request buckets
   * @param maxKeys request buckets kept at most
   * @param shared the hourly buckets all nodes share
   * @param secret a key every node has (the nonce key): addresses are stored as HMACs under a key
   *     derived from it
   */
  AcmeRateLimits(
      Limits limits, LongSupplier nanos, long maxKeys, SharedBuckets shared, byte[] secret) {
    this.limits = limits;
    this.requests = new TokenBuckets<>(nanos, maxKeys);
    this.shared = shared;
    this.addressKey = hmac(secret, "yinxin acme rate-limit addresses");
  }

  /** Counts one request from an address; throws {@code rateLimited} beyond the limit. */
  void request(String address) {
    Bucket b =
        requests.bucket(prefix(address), limits.requestBurst(), limits.requestsPerSecond(), 1);
    long wait = b.take(requests.now());
    if (wait > 0) {
      throw limited("requests from your address", wait);
    }
  }

  void newAccount(String address) {
    String prefix = prefix(address);
    String range = ipv6Range(prefix);
    // The network's allowance is looked at first and spent only with the address's, so a refusal
    // by the network costs the address nothing.
    int perRange = limits.newAccountsPerIpv6RangePerHour();
    if (range != null) {
      long wait = shared.take(NEW_ACCOUNT, hidden(range), perRange, perRange, HOUR, false);
      if (wait > 0) {
        throw limited("new accounts from your network (IPv6 /48)", wait);
      }
    }
    take(
        NEW_ACCOUNT, hidden(prefix), limits.newAccountsPerHour(), "new accounts from your address");
    if (range != null) {
      shared.take(NEW_ACCOUNT, hidden(range), perRange, perRange, HOUR, true);
    }
  }

  /** The /48 key of an IPv6 /64 key from {@link #prefix}; null for anything else. */
  static String ipv6Range(String prefix) {
    return TokenBuckets.ipv6Range(prefix);
  }

  void newOrder(String accountId) {
    take(NEW_ORDER, accountId, limits.newOrdersPerHour(), "new orders for this account");
  }

  /** Throws {@code rateLimited} if the account has used up its failed validations. */
  void mayValidate(String accountId) {
    int n = limits.failedValidationsPerHour();
    long wait = shared.take(FAILED_VALIDATION, accountId, n, n, HOUR, false);
    if (wait > 0) {
      throw limited("failed validations for this account", wait);
    }
  }

  /** Counts one failed validation against an account. */
  void validationFailed(String accountId) {
    int n = limits.failedValidationsPerHour();
    shared.take(FAILED_VALIDATION, accountId, n, n, HOUR, true);
  }

  /** Forgets the shared buckets that are full again. */
  int purge(long nowMillis) {
    return shared.purge(nowMillis - SHARED_PURGE_AFTER_MILLIS);
  }

  private void take(String kind, String who, int perHour, String what) {
    long wait = shared.take(kind, who, perHour, perHour, HOUR, true);
    if (wait > 0) {
      throw limited(what, wait);
    }
  }

  /** How an address key is stored: an HMAC of it, 128 bits in hex. */
  String hidden(String address) {
    return java.util.HexFormat.of().formatHex(hmac(addressKey, address), 0, 16);
  }

  private static byte[] hmac(byte[] key, String label) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(label.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static AcmeProblem limited(String what, long retryAfterSeconds) {
    return new AcmeProblem(
        "rateLimited", 429, "too many " + what + "; retry later", retryAfterSeconds);
  }

  /** The key an address counts under: itself for IPv4, its /64 for IPv6. */
  static String prefix(String address) {
    return TokenBuckets.addressKey(address);
  }
}
