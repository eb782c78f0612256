package io.yinxin.hsm.soft;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.math.ec.ECMultiplier;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;

/**
 * A dudect-style timing test (Reparaz, Balasch, Verbauwhede, "Dude, is my code constant time?",
 * 2017) of the soft backend's {@link FixedBaseMultiplier}, which computes the secret nonce point
 * k·G of ECDSA and SM2 signatures. Two classes of scalars are timed in random interleaving; Welch's
 * t-test compares their timing distributions, raw and cropped at dudect's percentiles, and the
 * largest |t| is reported. |t| below 4.5 means no difference was detected at that sample size;
 * dudect treats |t| above 10 as a definite leak.
 *
 * <p>Experiments per curve (P-256, SM2):
 *
 * <ul>
 *   <li>{@code hamming}: scalars with 16 bits set (top bit included) vs uniformly random scalars
 *       with the top bit set — does the work depend on the bits?
 *   <li>{@code length}: scalars whose top 64 bits are zero vs uniformly random full-length ones
 *       (the Minerva leak: the nonce's bit length) — does the work depend on the magnitude?
 * </ul>
 *
 * Bouncy Castle's own {@link FixedPointCombMultiplier} runs the same experiments as the baseline.
 * Not a unit test: timings are noisy and take minutes (about four per experiment and multiplier
 * here); run {@code ops/bench/run-timing} on an otherwise idle machine, choosing rows with
 * BENCH_CURVES (P-256,sm2p256v1) and BENCH_EXPERIMENTS (hamming,length).
 */
public final class FixedBaseTimingBench {
  private FixedBaseTimingBench() {}

  private static final double[] CROPS = crops();

  public static void main(String[] args) {
    int n = Integer.parseInt(System.getenv().getOrDefault("BENCH_MEASUREMENTS", "1000000"));
    SecureRandom random = new SecureRandom();
    List<String> rows = new ArrayList<>();
    rows.add("| curve | multiplier | experiment | measurements | max \\|t\\| | verdict |");
    rows.add("|---|---|---|---|---|---|");
    List<String> curves =
        List.of(System.getenv().getOrDefault("BENCH_CURVES", "P-256,sm2p256v1").split(","));
    List<String> experiments =
        List.of(System.getenv().getOrDefault("BENCH_EXPERIMENTS", "hamming,length").split(","));
    for (String curveName : curves) {
      X9ECParameters curve = ECNamedCurveTable.getByName(curveName);
      ECPoint g = curve.getG();
      BigInteger order = curve.getN();
      ECMultiplier ours = new FixedBaseMultiplier(g, EcSigner.WINDOW);
      ECMultiplier bc = new FixedPointCombMultiplier();
      for (String experiment : experiments) {
        for (var m :
            List.of(
                new Named("Yinxin fixed-base table", ours), new Named("BC comb (baseline)", bc))) {
          double t = run(m.multiplier(), g, order, experiment, n, random);
          rows.add(
              String.format(
                  Locale.ROOT,
                  "| %s | %s | %s | %d | %.2f | %s |",
                  curveName,
                  m.name(),
                  experiment,
                  n,
                  t,
                  t < 4.5 ? "no leak detected" : t < 10 ? "possible leak" : "leak"));
          System.err.println(rows.get(rows.size() - 1));
        }
      }
    }
    rows.forEach(System.out::println);
  }

  private record Named(String name, ECMultiplier multiplier) {}

  /** Times {@code n} multiplications with randomly interleaved classes; returns max |t|. */
  static double run(
      ECMultiplier m, ECPoint g, BigInteger order, String experiment, int n, SecureRandom random) {
    int bits = order.bitLength();
    // Inputs are made before timing starts, so only the multiplication is measured.
    byte[] classes = new byte[n];
    BigInteger[] scalars = new BigInteger[n];
    for (int i = 0; i < n; i++) {
      classes[i] = (byte) (random.nextBoolean() ? 1 : 0);
      scalars[i] = scalar(classes[i], experiment, bits, order, random);
    }
    // Warm-up on the same mix, so both classes run compiled code.
    for (int i = 0; i < Math.min(n, 200_000); i++) {
      m.multiply(g, scalars[i]);
    }
    long[] times = new long[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      m.multiply(g, scalars[i]);
      times[i] = System.nanoTime() - t0;
    }
    return maxT(times, classes);
  }

  static BigInteger scalar(int cls, String experiment, int bits, BigInteger order, SecureRandom r) {
    while (true) {
      BigInteger k;
      if (experiment.equals("hamming")) {
        if (cls == 0) {
          k = BigInteger.ONE.shiftLeft(bits - 2);
          while (k.bitCount() < 16) {
            k = k.setBit(r.nextInt(bits - 2));
          }
        } else {
          k = new BigInteger(bits - 1, r).setBit(bits - 2);
        }
      } else {
        k = cls == 0 ? new BigInteger(bits - 64, r) : new BigInteger(bits, r);
      }
      if (k.signum() > 0 && k.compareTo(order) < 0) {
        return k;
      }
    }
  }

  /** dudect's test: Welch's t over all measurements and over each cropped set; the largest |t|. */
  static double maxT(long[] times, byte[] classes) {
    long[] sorted = times.clone();
    Arrays.sort(sorted);
    double max = Math.abs(welch(times, classes, Long.MAX_VALUE));
    for (double p : CROPS) {
      long threshold = sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
      max = Math.max(max, Math.abs(welch(times, classes, threshold)));
    }
    return max;
  }

  /** Welch's t statistic of the two classes, counting only times up to {@code threshold}. */
  static double welch(long[] times, byte[] classes, long threshold) {
    // Welford's online mean and variance per class.
    double[] mean = new double[2];
    double[] m2 = new double[2];
    long[] count = new long[2];
    for (int i = 0; i < times.length; i++) {
      if (times[i] > threshold) {
        continue;
      }
      int c = classes[i];
      count[c]++;
      double delta = times[i] - mean[c];
      mean[c] += delta / count[c];
      m2[c] += delta * (times[i] - mean[c]);
    }
    if (count[0] < 2 || count[1] < 2) {
      return 0;
    }
    double v0 = m2[0] / (count[0] - 1);
    double v1 = m2[1] / (count[1] - 1);
    return (mean[0] - mean[1]) / Math.sqrt(v0 / count[0] + v1 / count[1]);
  }

  /** dudect's cropping percentiles: 1 − 0.5^(10·(k+1)/100) for k = 0..99 (every tenth here). */
  private static double[] crops() {
    double[] p = new double[10];
    for (int k = 0; k < 10; k++) {
      p[k] = 1 - Math.pow(0.5, 10.0 * (k * 10 + 1) / 100);
    }
    return p;
  }
}
