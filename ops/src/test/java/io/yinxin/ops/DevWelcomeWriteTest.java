package io.yinxin.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes starting together on one data folder (pods sharing a volume, {@code MultiNodeTest}) each
 * write {@code dev.json}. With one temporary name for all, two of them removed and created each
 * other's temporary file and a node failed its start with {@code FileAlreadyExistsException}.
 */
class DevWelcomeWriteTest {
  @TempDir Path dir;

  @Test
  void writersRacingOnOneFileEachReplaceItWholeAndLeaveNoTemporaryFile() throws Exception {
    Path file = dir.resolve("data").resolve("dev.json");
    int writers = 8;
    int times = 200;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    try {
      for (int w = 0; w < writers; w++) {
        String content = "{ \"writer\" : " + w + ", \"pad\" : \"" + "x".repeat(4000 + w) + "\" }";
        done.add(
            pool.submit(
                () -> {
                  go.await();
                  for (int i = 0; i < times; i++) {
                    DevWelcome.write(file, content);
                  }
                  return null;
                }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS); // a writer that failed throws here
      }
    } finally {
      pool.shutdownNow();
    }
    String last = Files.readString(file);
    assertThat(last).matches("(?s)\\{ \"writer\" : [0-7], \"pad\" : \"x{4000,4007}\" \\}\n");
    int w = Integer.parseInt(last.substring(13, 14));
    assertThat(last).hasSize(("{ \"writer\" : 0, \"pad\" : \"\" }\n").length() + 4000 + w);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    try (var files = Files.list(file.getParent())) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("dev.json");
    }
  }
}
