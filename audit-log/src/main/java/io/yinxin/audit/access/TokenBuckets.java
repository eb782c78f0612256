package io.yinxin.audit.access;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.function.LongSupplier;

/**
 * Token buckets by key (a client address, an account), for per-node rate limits on what anyone may
 * ask of a node without a token: the ACME server's requests, the OCSP responder's and the TSA's
 * signatures. Each bucket may spend its {@code capacity} at once and gets tokens back at its rate.
 * Buckets live in a cache bounded by entry count (least recently used out first), so a scan from
 * many addresses cannot grow the heap; a bucket that was evicted starts full again, which only ever
 * favours the client.
 *
 * @param <K> the key
 */
public final class TokenBuckets<K> {
  private final LongSupplier nanos;
  private final Cache<K, Bucket> buckets;

  /**
   * @param nanos a monotonic clock ({@code System::nanoTime})
   * @param maxKeys buckets kept at most
   */
  public TokenBuckets(LongSupplier nanos, long maxKeys) {
    this.nanos = nanos;
    this.buckets =
        Caffeine.newBuilder().maximumSize(maxKeys).expireAfterAccess(Duration.ofHours(2)).build();
  }

  /** The monotonic clock the buckets run on, in nanoseconds. */
  public long now() {
    return nanos.getAsLong();
  }

  /**
   * The bucket of {@code key}, made full with these figures if there is none.
   *
   * @param capacity the most tokens it holds (the burst)
   * @param rate tokens back per {@code periodSeconds}
   */
  public Bucket bucket(K key, int capacity, int rate, int periodSeconds) {
    return buckets.get(key, k -> Bucket.full(capacity, rate, periodSeconds, now()));
  }

  /**
   * The key a client address counts under: itself for IPv4 (an IPv4-mapped IPv6 address too), its
   * /64 for IPv6, as one host usually holds a whole /64. Only IP literals are read as addresses, so
   * it never resolves a name; anything else counts under its text.
   */
  public static String addressKey(String address) {
    String a = address == null ? "" : address;
    int zone = a.indexOf('%');
    if (zone >= 0) {
      a = a.substring(0, zone);
    }
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

  /** The /48 key of an IPv6 /64 key from {@link #addressKey}; null for anything else. */
  public static String ipv6Range(String addressKey) {
    return addressKey.startsWith("v6:") ? "v6/48:" + addressKey.substring(3, 3 + 12) : null;
  }

  /** A token bucket; all methods synchronized, as several request threads share one. */
  public static final class Bucket {
    private final int capacity;
    private final double perNano;
    private double tokens;
    private long last;

    private Bucket(int capacity, double perNano, long now) {
      this.capacity = capacity;
      this.perNano = perNano;
      this.tokens = capacity;
      this.last = now;
    }

    /**
     * A full bucket, on its own (not kept by key).
     *
     * @param capacity the most tokens it holds (the burst)
     * @param rate tokens back per {@code periodSeconds}
     * @param now the buckets' clock now, in nanoseconds
     */
    public static Bucket full(int capacity, int rate, int periodSeconds, long now) {
      return new Bucket(capacity, rate / (periodSeconds * 1e9), now);
    }

    /** Takes one token; returns 0 if there was one, else the seconds until there is. */
    public synchronized long take(long now) {
      refill(now);
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return waitFor(1);
    }

    /** 0 if {@code n} tokens are there now, else the seconds until they are; takes none. */
    public synchronized long secondsUntil(int n, long now) {
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
