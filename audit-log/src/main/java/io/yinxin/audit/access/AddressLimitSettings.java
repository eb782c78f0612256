package io.yinxin.audit.access;

import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Settings of an {@link AddressLimits}, per node: {@code yinxin.ca.ocsp-limits.*} (OCSP answers
 * signed on request) and {@code yinxin.sign.tsa.limits.*} (time-stamp tokens).
 *
 * @param perAddressPerSecond per client address (IPv6: per /64) per second
 * @param perAddressBurst how many one address may have at once
 * @param perSecond for all addresses together, per second (and at once)
 */
public record AddressLimitSettings(
    @DefaultValue("20") int perAddressPerSecond,
    @DefaultValue("100") int perAddressBurst,
    @DefaultValue("1000") int perSecond) {

  /** The limits, on the monotonic clock, counting up to 100,000 addresses apart. */
  public AddressLimits limits() {
    return new AddressLimits(
        perAddressPerSecond, perAddressBurst, perSecond, System::nanoTime, 100_000);
  }
}
