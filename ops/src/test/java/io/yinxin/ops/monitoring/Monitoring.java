package io.yinxin.ops.monitoring;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Paths and process helpers of the monitoring tests. */
final class Monitoring {
  /** {@code ops/deploy}: the tests run with {@code ops} as the working directory. */
  static final Path DEPLOY = Path.of("deploy").toAbsolutePath();

  private Monitoring() {}

  record Result(int exit, String output) {}

  static Result run(List<String> command) throws IOException, InterruptedException {
    return run(command, Path.of(".").toAbsolutePath());
  }

  static Result run(List<String> command, Path dir) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(command + " did not finish in 120 s");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }
}
