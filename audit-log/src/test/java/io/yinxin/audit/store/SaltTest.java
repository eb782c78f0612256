package io.yinxin.audit.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Salts come from each thread's DRBG 32 at a time (2026-12-07): every salt is 16 fresh bytes, none
 * handed out twice, across refills and across threads, and together they look uniform.
 */
class SaltTest {

  @Test
  void saltsAreSixteenFreshBytesNeverRepeatedAcrossRefillsOrThreads() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<List<byte[]>>> work = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        work.add(
            pool.submit(
                () -> {
                  List<byte[]> mine = new ArrayList<>();
                  for (int i = 0; i < 25_003; i++) { // not a multiple of a refill
                    mine.add(Integrator.newSalt());
                  }
                  return mine;
                }));
      }
      Set<String> seen = new HashSet<>();
      long[] counts = new long[256];
      long bytes = 0;
      for (Future<List<byte[]>> f : work) {
        for (byte[] salt : f.get()) {
          assertThat(salt).hasSize(16);
          assertThat(seen.add(HexFormat.of().formatHex(salt))).as("a salt repeated").isTrue();
          for (byte b : salt) {
            counts[b & 0xff]++;
            bytes++;
          }
        }
      }
      assertThat(seen).hasSize(4 * 25_003);
      // Chi-square of the byte values against uniform, 255 degrees of freedom: above 400 has a
      // chance below 1e-8 for a uniform source; a zeroed or repeated stretch lands far above it.
      double expected = bytes / 256.0;
      double chi = 0;
      for (long c : counts) {
        chi += (c - expected) * (c - expected) / expected;
      }
      assertThat(chi).isLessThan(400);
    } finally {
      pool.shutdownNow();
    }
  }
}
