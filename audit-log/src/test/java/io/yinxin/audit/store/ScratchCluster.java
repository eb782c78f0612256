package io.yinxin.audit.store;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.hsm.testing.FreePorts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL cluster of its own in a temporary folder ({@code initdb}, {@code pg_ctl} as the
 * {@code postgres} user, on a free port of 127.0.0.1), for tests that stop the server, copy its
 * data folder and put an older copy back: what a restore or a failover to a lagging standby does to
 * the nodes using it. Removed with everything in it on {@link #close}.
 */
final class ScratchCluster implements AutoCloseable {
  private final Path work;
  private final Path data;
  private final int port;

  ScratchCluster() throws Exception {
    work = Files.createTempDirectory("yinxin-cluster-");
    data = work.resolve("data");
    run("chown", "postgres:postgres", work.toString());
    port = FreePorts.next();
    asPostgres(pg("initdb"), "-D", data.toString(), "-A", "trust", "-U", "postgres");
    start();
  }

  void start() throws Exception {
    asPostgres(
        pg("pg_ctl"),
        "-D",
        data.toString(),
        "-o",
        "-p " + port + " -k " + work + " -c listen_addresses=127.0.0.1",
        "-l",
        work.resolve("server.log").toString(),
        "-w",
        "start");
  }

  void stop() throws Exception {
    asPostgres(pg("pg_ctl"), "-D", data.toString(), "-m", "fast", "-w", "stop");
  }

  /** Copies the data folder of the stopped cluster as {@code name}. */
  void copyAs(String name) throws Exception {
    run("cp", "-a", data.toString(), work.resolve(name).toString());
  }

  /** Puts the copy {@code name} back in place of the stopped cluster's data folder. */
  void restore(String name) throws Exception {
    run("rm", "-rf", data.toString());
    run("cp", "-a", work.resolve(name).toString(), data.toString());
  }

  HikariDataSource pool(int size) {
    HikariDataSource ds = new HikariDataSource();
    ds.setJdbcUrl("jdbc:postgresql://127.0.0.1:" + port + "/postgres");
    ds.setUsername("postgres");
    ds.setMaximumPoolSize(size);
    return ds;
  }

  @Override
  public void close() throws Exception {
    try {
      asPostgres(pg("pg_ctl"), "-D", data.toString(), "-m", "immediate", "-w", "stop");
    } catch (AssertionError e) {
      // not running
    }
    run("rm", "-rf", work.toString());
  }

  private static String pg(String tool) throws Exception {
    return Path.of(run("pg_config", "--bindir").strip(), tool).toString();
  }

  private String asPostgres(String... command) throws Exception {
    List<String> c = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    c.addAll(List.of(command));
    return run(work, c.toArray(String[]::new));
  }

  private static String run(String... command) throws Exception {
    return run(Path.of("/"), command);
  }

  private static String run(Path dir, String... command) throws Exception {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish");
    }
    if (p.exitValue() != 0) {
      throw new AssertionError(String.join(" ", command) + " failed: " + out);
    }
    return out;
  }
}
