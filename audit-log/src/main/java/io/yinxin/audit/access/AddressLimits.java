package io.yinxin.audit.access;

import java.util.function.LongSupplier;

/**
 * How often one client address, and all addresses together, may have a node do something costly
 * that anyone may ask for without a token: an OCSP answer signed for its request, a time-stamp
 * token. Without a limit anyone could keep a signing key busy.
 *
 * <p>An address counts as the ACME server counts it (IPv6 by its /64, {@link
 * TokenBuckets#addressKey}). The node's budget is looked at first and spent only with the
 * address's, so an address over its own budget does not spend the node's. Per node, like the ACME
 * limits: behind a load balancer with n nodes the figures are n times larger.
 */
public final class AddressLimits {
  /** No limit (tests, and benchmarks that measure the work rather than the limit). */
  public static final AddressLimits NONE = new AddressLimits();

  private final TokenBuckets<String> addresses;
  private final TokenBuckets.Bucket node;
  private final int perAddressPerSecond;
  private final int perAddressBurst;

  /**
   * @param perAddressPerSecond times per client address per second, at least 1
   * @param perAddressBurst times one address may at once, at least 1
   * @param nodePerSecond times for all addresses together per second (also their burst), at least 1
   * @param nanos a monotonic clock ({@code System::nanoTime})
   * @param maxAddresses addresses counted apart at most (least recently seen out first)
   */
  public AddressLimits(
      int perAddressPerSecond,
      int perAddressBurst,
      int nodePerSecond,
      LongSupplier nanos,
      long maxAddresses) {
    if (perAddressPerSecond < 1 || perAddressBurst < 1 || nodePerSecond < 1) {
      throw new IllegalArgumentException("every per-address limit is at least 1");
    }
    this.perAddressPerSecond = perAddressPerSecond;
    this.perAddressBurst = perAddressBurst;
    this.addresses = new TokenBuckets<>(nanos, maxAddresses);
    this.node = TokenBuckets.Bucket.full(nodePerSecond, nodePerSecond, 1, nanos.getAsLong());
  }

  private AddressLimits() {
    this.perAddressPerSecond = 0;
    this.perAddressBurst = 0;
    this.addresses = null;
    this.node = null;
  }

  /**
   * Takes one from {@code client}'s budget and the node's.
   *
   * @param client the client's address; null for the node itself (never limited)
   * @return 0 if taken; otherwise the seconds until the client may try again (at least 1)
   */
  public long take(String client) {
    if (addresses == null || client == null) {
      return 0;
    }
    long now = addresses.now();
    long wait = node.secondsUntil(1, now);
    if (wait > 0) {
      return wait;
    }
    wait =
        addresses
            .bucket(TokenBuckets.addressKey(client), perAddressBurst, perAddressPerSecond, 1)
            .take(now);
    if (wait > 0) {
      return wait;
    }
    node.take(now);
    return 0;
  }
}
