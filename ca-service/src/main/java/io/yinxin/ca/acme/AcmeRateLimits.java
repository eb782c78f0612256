package io.yinxin.ca.acme;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.function.LongSupplier;

/**
 * Per-source-address and per-account rate limits of the ACME server, as token buckets: each key may
 * spend {@code burst} at once and gets {@code rate} back per period. IPv6 addresses count by their
 * /64, as one host usually holds a whole /64; new accounts also count by the /48 around it, the
 * block a site is usually given (and a tunnel broker hands out for free), which would otherwise
 * hold 65,536 /64s each with its own allowance (Let's Encrypt limits new registrations per /48
 * likewise). Buckets live in a cache bounded by entry count (least recently used out first), so a
 * scan from many addresses cannot grow the heap; a bucket that was evicted starts full again, which
 * only ever favours the client.
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
  private final LongSupplier nanos;
  private final Cache<Key, Bucket> buckets;

  AcmeRateLimits(Limits limits, LongSupplier nanos, long maxKeys) {
    this.limits = limits;
    this.nanos = nanos;
    this.buckets =
        Caffeine.newBuilder().maximumSize(maxKeys).expireAfterAccess(Duration.ofHours(2)).build();
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
      long wait = network.secondsUntil(1, nanos.getAsLong());
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
      network.take(nanos.getAsLong());
    }
  }

  /** The /48 key of an IPv6 /64 key from {@link #prefix}; null for anything else. */
  static String ipv6Range(String prefix) {
    return prefix.startsWith("v6:") ? "v6/48:" + prefix.substring(3, 3 + 12) : null;
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
    long wait = b.secondsUntil(1, nanos.getAsLong());
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
        .take(nanos.getAsLong());
  }

  private void take(Kind kind, String who, int burst, int rate, int periodSeconds, String what) {
    Bucket b = bucket(kind, who, burst, rate, periodSeconds);
    long wait = b.take(nanos.getAsLong());
    if (wait > 0) {
      throw limited(what, wait);
    }
  }

  private Bucket bucket(Kind kind, String who, int burst, int rate, int periodSeconds) {
    return buckets.get(
        new Key(kind, who),
        k -> new Bucket(burst, rate / (periodSeconds * 1e9), nanos.getAsLong()));
  }

  private static AcmeProblem limited(String what, long retryAfterSeconds) {
    return new AcmeProblem(
        "rateLimited", 429, "too many " + what + "; retry later", retryAfterSeconds);
  }

  /** The key an address counts under: itself for IPv4, its /64 for IPv6. */
  static String prefix(String address) {
    String a = address == null ? "" : address;
    int zone = a.indexOf('%');
    if (zone >= 0) {
      a = a.substring(0, zone);
    }
    // only IP literals reach getByName, so it never resolves a name
    if (a.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}") || a.matches("[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*")) {
      try {
        byte[] ip = InetAddress.getByName(a).getAddress();
        return ip.length == 16
            ? "v6:" + HexFormat.of().formatHex(Arrays.copyOf(ip, 8))
            : "v4:" + HexFormat.of().formatHex(ip);
      } catch (UnknownHostException e) {
        // not a literal after all: counted under its text
      }
    }
    return "other:" + a.substring(0, Math.min(a.length(), 64));
  }

  /** A token bucket; all methods synchronized, as several request threads share one. */
  private static final class Bucket {
    private final int capacity;
    private final double perNano;
    private double tokens;
    private long last;

    Bucket(int capacity, double perNano, long now) {
      this.capacity = capacity;
      this.perNano = perNano;
      this.tokens = capacity;
      this.last = now;
    }

    /** Takes one token; returns 0 if there was one, else the seconds until there is. */
    synchronized long take(long now) {
      refill(now);
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return waitFor(1);
    }

    synchronized long secondsUntil(int n, long now) {
      refill(now);
      return tokens >= n ? 0 : waitFor(n);
    }

    private void refill(long now) {
      if (now > last) {
        tokens = Math.min(capacity, tokens + (now - last) * perNano);
        last = now;
      }
    }

    private long waitFor(int n) {
      return Math.max(1, (long) Math.ceil((n - tokens) / perNano / 1e9));
    }
  }
}
