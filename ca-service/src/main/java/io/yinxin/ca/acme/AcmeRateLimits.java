package io.yinxin.ca.acme;

import io.yinxin.audit.access.TokenBuckets;
import io.yinxin.audit.access.TokenBuckets.Bucket;
import java.util.function.LongSupplier;

/**
 * Per-source-address and per-account rate limits of the ACME server, as token buckets: each key may
 * spend {@code burst} at once and gets {@code rate} back per period. IPv6 addresses count by their
 * /64, as one host usually holds a whole /64; new accounts also count by the /48 around it, the
 * block a site is usually given (and a tunnel broker hands out for free), which would otherwise
 * hold 65,536 /64s each with its own allowance (Let's Encrypt limits new registrations per /48
 * likewise). The buckets are {@link TokenBuckets}, bounded in number.
 *
 * <p>Limits are per node: behind a load balancer with n nodes a client gets at most n times the
 * figure. That keeps the limiter off the database on every request, as Boulder's per-process limits
 * did before it had a shared store.
 */
final class AcmeRateLimits {
  /**
   * The limits; each count is per source address or per account, per node.
   *
   * @param requestsPerSecond signed requests and new-nonce requests per address per second
   * @param requestBurst the most requests an address may send at once
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

  private enum Kind {
    REQUEST,
    NEW_ACCOUNT,
    NEW_ORDER,
    FAILED_VALIDATION
  }

  private record Key(Kind kind, String who) {}

  private final Limits limits;
  private final TokenBuckets<Key> buckets;

  AcmeRateLimits(Limits limits, LongSupplier nanos, long maxKeys) {
    this.limits = limits;
    this.buckets = new TokenBuckets<>(nanos, maxKeys);
  }

  /** Counts one request from an address; throws {@code rateLimited} beyond the limit. */
  void request(String address) {
    take(
        Kind.REQUEST,
        prefix(address),
        limits.requestBurst(),
        limits.requestsPerSecond(),
        1,
        "requests from your address");
  }

  void newAccount(String address) {
    String prefix = prefix(address);
    String range = ipv6Range(prefix);
    Bucket network =
        range == null
            ? null
            : bucket(
                Kind.NEW_ACCOUNT,
                range,
                limits.newAccountsPerIpv6RangePerHour(),
                limits.newAccountsPerIpv6RangePerHour(),
                3600);
    // The network's allowance is looked at first and spent only with the address's, so a refusal
    // by the network costs the address nothing.
    if (network != null) {
      long wait = network.secondsUntil(1, buckets.now());
      if (wait > 0) {
        throw limited("new accounts from your network (IPv6 /48)", wait);
      }
    }
    take(
        Kind.NEW_ACCOUNT,
        prefix,
        limits.newAccountsPerHour(),
        limits.newAccountsPerHour(),
        3600,
        "new accounts from your address");
    if (network != null) {
      network.take(buckets.now());
    }
  }

  /** The /48 key of an IPv6 /64 key from {@link #prefix}; null for anything else. */
  static String ipv6Range(String prefix) {
    return TokenBuckets.ipv6Range(prefix);
  }

  void newOrder(String accountId) {
    take(
        Kind.NEW_ORDER,
        accountId,
        limits.newOrdersPerHour(),
        limits.newOrdersPerHour(),
        3600,
        "new orders for this account");
  }

  /** Throws {@code rateLimited} if the account has used up its failed validations. */
  void mayValidate(String accountId) {
    Bucket b =
        bucket(
            Kind.FAILED_VALIDATION,
            accountId,
            limits.failedValidationsPerHour(),
            limits.failedValidationsPerHour(),
            3600);
    long wait = b.secondsUntil(1, buckets.now());
    if (wait > 0) {
      throw limited("failed validations for this account", wait);
    }
  }

  /** Counts one failed validation against an account. */
  void validationFailed(String accountId) {
    bucket(
            Kind.FAILED_VALIDATION,
            accountId,
            limits.failedValidationsPerHour(),
            limits.failedValidationsPerHour(),
            3600)
        .take(buckets.now());
  }

  private void take(Kind kind, String who, int burst, int rate, int periodSeconds, String what) {
    Bucket b = bucket(kind, who, burst, rate, periodSeconds);
    long wait = b.take(buckets.now());
    if (wait > 0) {
      throw limited(what, wait);
    }
  }

  private Bucket bucket(Kind kind, String who, int burst, int rate, int periodSeconds) {
    return buckets.bucket(new Key(kind, who), burst, rate, periodSeconds);
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
