package io.yinxin.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Secrets files made by several nodes starting at once on one data folder (pods sharing a volume):
 * all of them must read the first one's secret, whole, and none may fail its start. Each race is
 * run twenty times with eight threads released together.
 */
class OwnerOnlyFilesTest {
  private static final int THREADS = 8;

  /** Runs {@code task(i)} on eight threads released at once; their results. */
  private static <T> List<T> atOnce(java.util.function.IntFunction<Callable<T>> task)
      throws Exception {
    CyclicBarrier start = new CyclicBarrier(THREADS);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (int i = 0; i < THREADS; i++) {
        Callable<T> c = task.apply(i);
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  return c.call();
                }));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : futures) {
        out.add(f.get(60, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void everyoneCreatingOneTokenFileAtOnceReadsTheFirstOnesWhole() throws Exception {
    for (int attempt = 0; attempt < 20; attempt++) {
      Path file = Files.createTempDirectory("yinxin-owner-only-").resolve("dir/tokens.properties");
      List<Properties> seen =
          atOnce(
              i ->
                  () ->
                      OwnerOnlyFiles.createOrLoad(
                          file,
                          () -> {
                            Properties p = new Properties();
                            p.setProperty("token", "token-of-" + i);
                            return p;
                          },
                          "test tokens"));
      assertThat(seen).allSatisfy(p -> assertThat(p.getProperty("token")).startsWith("token-of-"));
      assertThat(seen.stream().map(p -> p.getProperty("token")).distinct()).hasSize(1);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
          .isEqualTo("rw-------");
      try (var left = Files.list(file.getParent())) {
        assertThat(left.map(p -> p.getFileName().toString())).containsExactly("tokens.properties");
      }
    }
  }

  /** The embedded default's TLS key and its password, made by eight nodes at once: one pair. */
  @Test
  void everyoneMakingTheDevelopmentTlsKeyAtOnceGetsOneThatOpensWithItsPassword() throws Exception {
    for (int attempt = 0; attempt < 20; attempt++) {
      Path dir = Files.createTempDirectory("yinxin-tls-race-");
      List<TlsServerKeys.Pkcs12> made = atOnce(i -> () -> TlsServerKeys.development(dir));
      assertThat(made.stream().map(TlsServerKeys.Pkcs12::password).distinct()).hasSize(1);
      TlsServerKeys.Pkcs12 again =
          TlsServerKeys.existing(dir.resolve("sso-tls.p12"), made.get(0).password());
      assertThat(again.alias()).isEqualTo("tls");
    }
  }

  @Test
  void anEmptyFileLeftByAnOlderVersionIsAnErrorNotAnEmptySecret() throws Exception {
    Path file = Files.createTempFile("yinxin-empty-", ".properties");
    assertThatThrownBy(() -> OwnerOnlyFiles.createOrLoad(file, Properties::new, "x"))
        .hasMessageContaining("empty secrets file")
        .hasMessageContaining("delete it");
  }

  @Test
  void replaceWritesTheNewContentWholeAndLeavesNoTemporaryFile() throws Exception {
    Path dir = Files.createTempDirectory("yinxin-replace-");
    Path file = dir.resolve("a.bin");
    OwnerOnlyFiles.replace(file, new byte[] {1, 2, 3});
    OwnerOnlyFiles.replace(file, new byte[] {4});
    assertThat(Files.readAllBytes(file)).containsExactly(4);
    assertThat(OwnerOnlyFiles.createIfAbsent(file, new byte[] {5})).isFalse();
    assertThat(Files.readAllBytes(file)).containsExactly(4);
    try (var left = Files.list(dir)) {
      assertThat(left.map(p -> p.getFileName().toString())).containsExactly("a.bin");
    }
  }
}
