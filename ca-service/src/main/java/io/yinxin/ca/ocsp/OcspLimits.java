package io.yinxin.ca.ocsp;

import io.yinxin.ca.TokenBuckets;
import java.util.function.LongSupplier;

/**
 * How many answers one client address, and the node as a whole, may have signed on request: an
 * answer with a nonce, one about several certificates, one not in the cache yet, and every answer
 * for a serial the CA never issued ({@code unknown} is never cached, and a made-up serial is new
 * each time). Without a limit anyone could keep the signer busy with such requests. Cached answers
 * and answers signed ahead of requests are never limited: a responder under such a flood still
 * answers every certificate it has already answered, at once.
 *
 * <p>An address counts as the ACME server counts it (IPv6 by its /64, {@link
 * TokenBuckets#addressKey}). The node's budget is looked at first and spent only with the
 * address's, so an address over its own budget does not spend the node's. Per node, like the ACME
 * limits: behind a load balancer with n nodes the figures are n times larger.
 */
public final class OcspLimits {
  /** No limit: for answers this node asks for itself (no client address). */
  public static final OcspLimits NONE = new OcspLimits();

  private final TokenBuckets<String> addresses;
  private final TokenBuckets.Bucket node;
  private final int perAddressPerSecond;
  private final int perAddressBurst;

  /**
   * @param perAddressPerSecond answers signed on request per client address per second, at least 1
   * @param perAddressBurst how many such answers one address may have at once, at least 1
   * @param nodePerSecond such answers for all addresses together per second (also their burst), at
   *     least 1
   * @param nanos a monotonic clock ({@code System::nanoTime})
   * @param maxAddresses addresses counted apart at most (least recently seen out first)
   */
  public OcspLimits(
      int perAddressPerSecond,
      int perAddressBurst,
      int nodePerSecond,
      LongSupplier nanos,
      long maxAddresses) {
    if (perAddressPerSecond < 1 || perAddressBurst < 1 || nodePerSecond < 1) {
      throw new IllegalArgumentException("every OCSP limit is at least 1");
    }
    this.perAddressPerSecond = perAddressPerSecond;
    this.perAddressBurst = perAddressBurst;
    this.addresses = new TokenBuckets<>(nanos, maxAddresses);
    this.node = TokenBuckets.Bucket.full(nodePerSecond, nodePerSecond, 1, nanos.getAsLong());
  }

  private OcspLimits() {
    this.perAddressPerSecond = 0;
    this.perAddressBurst = 0;
    this.addresses = null;
    this.node = null;
  }

  /**
   * Takes one answer signed on request from {@code client}'s budget and the node's.
   *
   * @param client the client's address; null for this node itself (never limited)
   * @return whether the answer may be signed
   */
  boolean maySign(String client) {
    if (addresses == null || client == null) {
      return true;
    }
    long now = addresses.now();
    if (node.secondsUntil(1, now) > 0) {
      return false;
    }
    if (addresses
            .bucket(TokenBuckets.addressKey(client), perAddressBurst, perAddressPerSecond, 1)
            .take(now)
        > 0) {
      return false;
    }
    node.take(now);
    return true;
  }
}
