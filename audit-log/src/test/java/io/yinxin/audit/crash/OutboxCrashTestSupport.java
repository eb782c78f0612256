package io.yinxin.audit.crash;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.sql.DataSource;

/** Runs and kills {@link OutboxWriter}, and checks the log against the changes it committed. */
public final class OutboxCrashTestSupport {
  private OutboxCrashTestSupport() {}

  /** What the killed process said: subjects committed, rolled back, acknowledged. */
  public record Outcome(Set<String> committed, Set<String> rolledBack, Set<String> acknowledged) {}

  public static void createChangesTable(DataSource ds) throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE public.outbox_changes (subject VARCHAR(40) PRIMARY KEY)");
    }
  }

  /**
   * Starts {@link OutboxWriter} with these arguments and SIGKILLs it once it has frozen (after
   * {@code commits} commits).
   */
  public static Outcome runAndKill(List<String> args, Map<String, String> env, int commits)
      throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(OutboxWriter.class.getName());
    cmd.addAll(args.subList(0, 3));
    cmd.add(Integer.toString(commits));
    cmd.addAll(args.subList(3, args.size()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().putAll(env);
    Process child = pb.start();
    Set<String> committed = new HashSet<>();
    Set<String> rolledBack = new HashSet<>();
    Set<String> acknowledged = new HashSet<>();
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      boolean killed = false;
      while ((line = in.readLine()) != null) {
        String[] p = line.split(" ");
        switch (p[0]) {
          case "C" -> committed.add(p[1]);
          case "X" -> rolledBack.add(p[1]);
          case "A" -> acknowledged.add(p[1]);
          default -> {}
        }
        if (!killed && line.equals("FROZEN")) {
          // SIGKILL from outside: no shutdown hooks; the pipe is drained afterwards.
          new ProcessBuilder("kill", "-KILL", Long.toString(child.pid())).start().waitFor();
          killed = true;
        }
      }
    }
    child.waitFor();
    assertThat(child.exitValue()).as("the writer was killed, not finished").isEqualTo(137);
    assertThat(committed).hasSizeGreaterThanOrEqualTo(commits);
    assertThat(rolledBack).isNotEmpty();
    return new Outcome(committed, rolledBack, acknowledged);
  }

  /**
   * The log's entries by this test's writers are exactly the committed changes, once each, each
   * writer's in its commit order.
   */
  public static void verify(Outcome outcome, DataSource changesDb, DataSource logDb)
      throws Exception {
    Set<String> changes = new HashSet<>();
    try (Connection c = changesDb.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT subject FROM public.outbox_changes")) {
      while (rs.next()) {
        changes.add(rs.getString(1));
      }
    }
    Map<String, Integer> entries = new HashMap<>();
    Map<Integer, TreeMap<Integer, Long>> byWriter = new HashMap<>();
    try (Connection c = logDb.getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT subject, idx FROM audit.events WHERE actor = 'outbox-crash' ORDER BY idx")) {
      while (rs.next()) {
        String subject = rs.getString(1);
        entries.merge(subject, 1, Integer::sum);
        String[] w = subject.substring(1).split("-");
        byWriter
            .computeIfAbsent(Integer.parseInt(w[0]), k -> new TreeMap<>())
            .put(Integer.parseInt(w[1]), rs.getLong(2));
      }
    }
    assertThat(changes)
        .as("every printed commit is a stored change")
        .containsAll(outcome.committed());
    assertThat(changes)
        .as("no rolled-back change is stored")
        .doesNotContainAnyElementsOf(outcome.rolledBack());
    assertThat(entries.keySet()).as("entries are exactly the committed changes").isEqualTo(changes);
    assertThat(entries.values()).as("no duplicates").allMatch(n -> n == 1);
    for (var w : byWriter.entrySet()) {
      List<Long> indices = new ArrayList<>(w.getValue().values());
      assertThat(indices).as("writer %d in commit order", w.getKey()).isSorted();
    }
  }

  public static long count(DataSource ds, String sql) throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
