package io.yinxin.hsm.soft;

import java.math.BigInteger;
import org.bouncycastle.math.ec.AbstractECMultiplier;
import org.bouncycastle.math.ec.ECCurve;
import org.bouncycastle.math.ec.ECLookupTable;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.bouncycastle.math.raw.Nat;

/**
 * Multiplies one fixed point (a curve's base point) by a secret scalar with a fixed-base window
 * table: for each {@code w}-bit window {@code i} of the scalar the table holds {@code (j + 1) ·
 * 2^(w·i) · G} for every digit {@code j}, so {@code k·G} is one table point per window added up,
 * with no doublings at all (Bouncy Castle's comb method does a doubling and an addition per round).
 *
 * <p>All arithmetic is Bouncy Castle's (its constant-time custom-curve fields); only the choice of
 * precomputed points is ours. Every digit, zero included, selects a point through Bouncy Castle's
 * constant-time lookup table, which reads every entry; the {@code + 1} keeps the point at infinity
 * out of the tables and is taken back by one final addition of {@code -(Σ 2^(w·i))·G}. Any other
 * point, or a scalar longer than the table, goes to Bouncy Castle's own comb multiplier.
 *
 * <p>Why the secret nonce does not show in the time taken: the digit of each window is cut from a
 * fixed-length {@code int[]} by shifts and masks (no branch on a bit); the table point is chosen by
 * Bouncy Castle's cache-safe lookup for its custom curves (P-256, P-384, SM2), which reads every
 * entry and keeps the wanted one with arithmetic masks ({@code ((i ^ index) - 1) >> 31}), so no
 * branch and no memory address depends on the digit; every scalar does the same number of point
 * additions, in Bouncy Castle's fixed-time field arithmetic, whose only branches (a point at
 * infinity, two equal points) a random nonce reaches with negligible probability. What is not
 * fixed-time is the conversion of the nonce from a {@code BigInteger} (its length), the same in
 * Bouncy Castle's own signers. {@code ops/bench/run-timing} measures both multipliers with dudect's
 * Welch t-test (the closing notes and the README give the figures).
 */
final class FixedBaseMultiplier extends AbstractECMultiplier {
  private final ECPoint base;
  private final int width;
  private final int windows;
  private final ECLookupTable[] tables;
  private final ECPoint correction;
  private final FixedPointCombMultiplier fallback = new FixedPointCombMultiplier();

  /**
   * Precomputes the tables for {@code base} (about {@code 2^width · ⌈bits/width⌉} points, where
   * {@code bits} is the bit length of the group order).
   */
  FixedBaseMultiplier(ECPoint base, int width) {
    if (width < 2 || width > 8) {
      throw new IllegalArgumentException("window width " + width + " is outside 2..8");
    }
    this.base = base.normalize();
    this.width = width;
    ECCurve curve = this.base.getCurve();
    BigInteger order = curve.getOrder();
    this.windows = (order.bitLength() + width - 1) / width;
    int size = 1 << width;
    ECPoint[] points = new ECPoint[windows * size];
    ECPoint windowBase = this.base;
    BigInteger offset = BigInteger.ZERO;
    for (int i = 0; i < windows; i++) {
      ECPoint p = windowBase;
      for (int j = 0; j < size; j++) {
        points[i * size + j] = p;
        p = p.add(windowBase);
      }
      offset = offset.add(BigInteger.ONE.shiftLeft(width * i));
      windowBase = points[i * size + size - 1].normalize();
    }
    curve.normalizeAll(points);
    this.tables = new ECLookupTable[windows];
    for (int i = 0; i < windows; i++) {
      tables[i] = curve.createCacheSafeLookupTable(points, i * size, size);
    }
    this.correction = this.base.multiply(offset.mod(order)).negate().normalize();
  }

  @Override
  protected ECPoint multiplyPositive(ECPoint p, BigInteger k) {
    int bits = windows * width;
    if (k.bitLength() > bits || !(p == base || p.equals(base))) {
      return fallback.multiply(p, k);
    }
    int[] scalar = Nat.fromBigInteger(bits, k);
    ECPoint sum = tables[0].lookup(digit(scalar, 0));
    for (int i = 1; i < windows; i++) {
      sum = sum.add(tables[i].lookup(digit(scalar, i * width)));
    }
    return sum.add(correction);
  }

  private int digit(int[] scalar, int from) {
    int d = 0;
    for (int b = 0; b < width; b++) {
      int bit = from + b;
      int word = bit >>> 5;
      int value = word < scalar.length ? scalar[word] >>> (bit & 31) & 1 : 0;
      d |= value << b;
    }
    return d;
  }
}
