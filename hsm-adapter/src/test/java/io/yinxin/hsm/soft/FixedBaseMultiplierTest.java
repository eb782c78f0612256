package io.yinxin.hsm.soft;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.WNafL2RMultiplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fixed-base table gives the same point as an independent multiplication (Bouncy Castle's wNAF
 * left-to-right method, which uses no precomputed base-point table) for edge scalars and thousands
 * of random ones, at several window widths.
 */
class FixedBaseMultiplierTest {

  @ParameterizedTest
  @ValueSource(strings = {"P-256", "P-384", "sm2p256v1"})
  void tableMultiplicationEqualsAnIndependentMethodForEdgeAndRandomScalars(String name) {
    X9ECParameters x9 = CustomNamedCurves.getByName(name);
    ECPoint g = x9.getG();
    BigInteger n = x9.getN();
    WNafL2RMultiplier reference = new WNafL2RMultiplier();
    for (int width : new int[] {3, 5, 6}) {
      FixedBaseMultiplier table = new FixedBaseMultiplier(g, width);
      for (BigInteger k : scalars(n, width, 0x5eedL + width)) {
        ECPoint expected = reference.multiply(g, k).normalize();
        assertThat(table.multiply(g, k).normalize())
            .as("%s w=%d k=%s", name, width, k.toString(16))
            .isEqualTo(expected);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"P-256", "P-384", "sm2p256v1"})
  void zeroGivesInfinityAndOtherPointsAreMultipliedCorrectly(String name) {
    X9ECParameters x9 = CustomNamedCurves.getByName(name);
    ECPoint g = x9.getG();
    FixedBaseMultiplier table = new FixedBaseMultiplier(g, 5);
    assertThat(table.multiply(g, BigInteger.ZERO).isInfinity()).isTrue();
    ECPoint other = g.multiply(BigInteger.valueOf(12345)).normalize();
    BigInteger k = new BigInteger(1, new byte[] {7, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    assertThat(table.multiply(other, k).normalize())
        .isEqualTo(g.multiply(k.multiply(BigInteger.valueOf(12345))).normalize());
    assertThat(table.multiply(g, k.negate()).normalize())
        .isEqualTo(g.multiply(k).negate().normalize());
  }

  /** 1, 2, n-1, n-2, every window boundary, all-zero and all-ones digits, then random scalars. */
  private static List<BigInteger> scalars(BigInteger n, int width, long seed) {
    List<BigInteger> all = new ArrayList<>();
    all.add(BigInteger.ONE);
    all.add(BigInteger.TWO);
    all.add(n.subtract(BigInteger.ONE));
    all.add(n.subtract(BigInteger.TWO));
    BigInteger ones = BigInteger.ZERO;
    for (int bit = 0; bit < n.bitLength(); bit += width) {
      all.add(BigInteger.ONE.shiftLeft(bit));
      all.add(BigInteger.ONE.shiftLeft(bit).subtract(BigInteger.ONE).max(BigInteger.ONE));
      ones = ones.or(BigInteger.ONE.shiftLeft(width).subtract(BigInteger.ONE).shiftLeft(bit));
    }
    all.add(ones.mod(n));
    all.add(BigInteger.ONE.shiftLeft(n.bitLength() - 1));
    SplittableRandom random = new SplittableRandom(seed);
    byte[] bytes = new byte[(n.bitLength() + 7) / 8];
    for (int i = 0; i < 1_000; i++) {
      random.nextBytes(bytes);
      BigInteger k = new BigInteger(1, bytes).mod(n);
      all.add(k.signum() == 0 ? BigInteger.ONE : k);
    }
    return all;
  }
}
