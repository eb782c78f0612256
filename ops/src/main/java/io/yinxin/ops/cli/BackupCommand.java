package io.yinxin.ops.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/**
 * {@code yinxin backup} and {@code yinxin restore}: a consistent physical copy of the PostgreSQL
 * cluster by PostgreSQL's own {@code pg_basebackup} (WAL streamed along, a backup manifest with
 * SHA-256 checksums), checked with {@code pg_verifybackup}, plus the public material a verifier
 * needs. The database holds no private key: keys live in the key backend and are backed up with its
 * own mechanism (README).
 */
final class BackupCommand {
  private BackupCommand() {}

  /** The PostgreSQL client tools of the local installation. */
  static Path tool(String name) {
    for (String dir :
        new String[] {
          System.getenv().getOrDefault("YINXIN_PG_BINDIR", ""),
          "/usr/lib/postgresql/17/bin",
          "/usr/lib/postgresql/16/bin",
          "/usr/lib/postgresql/15/bin",
          "/usr/bin"
        }) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
        return Path.of(dir, name);
      }
    }
    throw new Node.Unreachable(
        name + " not found: install postgresql-client or set YINXIN_PG_BINDIR");
  }

  /** Runs a tool, its output passed through to ours; throws when it fails. */
  static void run(java.io.PrintWriter err, List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try (InputStream in = p.getInputStream()) {
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) > 0; ) {
        err.print(new String(buf, 0, n, StandardCharsets.UTF_8));
        err.flush();
      }
    }
    int status = p.waitFor();
    if (status != 0) {
      throw new Node.Refused(status, Path.of(command.get(0)).getFileName() + " failed");
    }
  }

  /** pg_basebackup's progress lines: "123456/7890123 kB (1%), 0/1 tablespace". */
  private static final java.util.regex.Pattern COPIED =
      java.util.regex.Pattern.compile("^\\s*(\\d+)/(\\d+) kB \\(\\d+%\\)");

  /**
   * Runs pg_basebackup with {@code --progress}: its progress lines drive {@code progress} (MB
   * copied of the estimated total, rate, ETA; a bar on a terminal, a plain line every 10 %
   * otherwise, none with {@code null}), everything else it says goes to {@code err}.
   */
  static void copy(java.io.PrintWriter err, List<String> command, Progress progress)
      throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try (java.io.BufferedReader in =
        new java.io.BufferedReader(
            new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        // On a pipe pg_basebackup ends each progress report with a newline; a carriage return
        // may still separate reports within one line.
        for (String part : line.split("\r")) {
          java.util.regex.Matcher m = COPIED.matcher(part);
          if (m.find()) {
            if (progress != null) {
              progress.total(Long.parseLong(m.group(2)) / 1024);
              progress.advanceTo(Long.parseLong(m.group(1)) / 1024);
            }
          } else if (!part.isBlank()) {
            err.println(part);
            err.flush();
          }
        }
      }
    }
    int status = p.waitFor();
    if (status != 0) {
      throw new Node.Refused(status, "pg_basebackup failed");
    }
    if (progress != null) {
      progress.finish();
    }
  }

  @Command(
      name = "backup",
      mixinStandardHelpOptions = true,
      description = {
        "Back up the node's PostgreSQL cluster with pg_basebackup (a consistent copy, WAL",
        "included, manifest with SHA-256 checksums, checked with pg_verifybackup) into",
        "DIR/database, and the public material a verifier needs into DIR/public (the log's",
        "verifier keys and newest checkpoint, the CA certificates); DIR/yinxin-backup.json lists",
        "every file with its SHA-256. Private keys are not in it: back up the key backend itself.",
        "The role needs the REPLICATION attribute (pg_hba: a 'replication' line).",
        "",
        "Example: yinxin backup --db-host 10.0.0.5 --db-user backup --out /backup/2026-12-02"
      })
  static final class Backup implements Callable<Integer> {
    @Mixin Node node;

    @Option(names = "--db-host", defaultValue = "127.0.0.1")
    String host;

    @Option(names = "--db-port", defaultValue = "5432")
    int port;

    @Option(names = "--db-user", defaultValue = "postgres")
    String user;

    @Option(names = "--out", required = true, description = "A new directory")
    Path out;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      if (Files.exists(out) && (!Files.isDirectory(out) || Files.list(out).findAny().isPresent())) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), out + " exists and is not empty");
      }
      var text = spec.commandLine().getOut();
      var err = spec.commandLine().getErr();
      Files.createDirectories(out);
      Instant started = Instant.now();
      List<String> command =
          new ArrayList<>(
              List.of(
                  tool("pg_basebackup").toString(),
                  "-h",
                  host,
                  "-p",
                  Integer.toString(port),
                  "-U",
                  user,
                  "-D",
                  out.resolve("database").toString(),
                  "-Fp",
                  "-X",
                  "stream",
                  "--checkpoint=fast",
                  "--manifest-checksums=SHA256",
                  "--no-password"));
      command.add("--progress"); // read by copy(): MB copied, rate and ETA
      if (!Progress.onTerminal() && !node.json) {
        text.println("backing up " + host + ":" + port + " into " + out);
      }
      copy(
          err,
          command,
          node.json ? null : new Progress(err, "MB copied", 1, Progress.onTerminal()));
      run(
          err,
          List.of(tool("pg_verifybackup").toString(), "-q", out.resolve("database").toString()));
      Map<String, Object> manifest = new LinkedHashMap<>();
      manifest.put("format", "yinxin-backup/1");
      manifest.put("startedAt", started.toString());
      manifest.put("finishedAt", Instant.now().toString());
      manifest.put("database", Map.of("host", host, "port", port, "tool", "pg_basebackup"));
      manifest.put("privateKeys", "none: they stay in the key backend");
      List<String> missing = publicMaterial(out.resolve("public"));
      if (!missing.isEmpty()) {
        manifest.put("publicMaterialMissing", missing);
      }
      List<Map<String, Object>> files = new ArrayList<>();
      long bytes = 0;
      try (Stream<Path> all = Files.walk(out)) {
        for (Path f : all.filter(Files::isRegularFile).sorted().toList()) {
          Map<String, Object> e = new LinkedHashMap<>();
          e.put("path", out.relativize(f).toString());
          e.put("bytes", Files.size(f));
          e.put("sha256", sha256(f));
          bytes += Files.size(f);
          files.add(e);
        }
      }
      manifest.put("files", files);
      Files.writeString(
          out.resolve("yinxin-backup.json"),
          Node.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(manifest));
      if (node.json) {
        text.println(Node.pretty(Node.JSON.valueToTree(manifest)));
      } else {
        text.printf(
            "backup in %s: %d files, %.1f MB, verified by pg_verifybackup, in %.1f s%s%n",
            out,
            files.size(),
            bytes / 1e6,
            (Instant.now().toEpochMilli() - started.toEpochMilli()) / 1000.0,
            missing.isEmpty() ? "" : " (public material not fetched: " + missing + ")");
      }
      return 0;
    }

    /** The log's keys and newest checkpoint, the CA certificates; what could not be fetched. */
    private List<String> publicMaterial(Path dir) throws IOException {
      Files.createDirectories(dir.resolve("ca"));
      List<String> missing = new ArrayList<>();
      fetch("/audit/v1/keys", dir.resolve("audit-keys.json"), missing);
      fetch("/audit/checkpoint", dir.resolve("audit-checkpoint.txt"), missing);
      if (fetch("/ca/v1/cas", dir.resolve("cas.json"), missing)) {
        JsonNode cas = Node.JSON.readTree(Files.readString(dir.resolve("cas.json")));
        for (JsonNode ca : cas.path("items")) {
          String name = ca.path("name").asString();
          fetch(
              "/ca/v1/cas/" + URLEncoder.encode(name, StandardCharsets.UTF_8) + "/certificate",
              dir.resolve("ca").resolve(name + ".cer"),
              missing);
        }
      }
      return missing;
    }

    private boolean fetch(String path, Path to, List<String> missing) throws IOException {
      try {
        var r = node.send(node.request(path, null).GET());
        if (r.statusCode() == 200) {
          Files.write(to, r.body());
          return true;
        }
      } catch (Node.Unreachable e) {
        // recorded below
      }
      missing.add(path);
      return false;
    }
  }

  @Command(
      name = "restore",
      mixinStandardHelpOptions = true,
      description = {
        "Restore a backup made by 'yinxin backup' into a new PostgreSQL data directory: checks",
        "it with pg_verifybackup, copies it, and sets the port; with --wal-archive and",
        "--target-time it recovers to that point in time from archived WAL (point-in-time",
        "recovery). Then start PostgreSQL on it (pg_ctl -D DIR start, as the postgres user) and",
        "point the nodes at it; run 'yinxin audit check'.",
        "",
        "Example: yinxin restore --from /backup/2026-12-02 --to /var/lib/postgresql/15/restored \\",
        "           --port 5433"
      })
  static final class Restore implements Callable<Integer> {
    @Option(names = "--from", required = true, description = "A directory 'yinxin backup' made")
    Path from;

    @Option(names = "--to", required = true, description = "A new PostgreSQL data directory")
    Path to;

    @Option(names = "--port", required = true, description = "The port the cluster listens on")
    int port;

    @Option(names = "--wal-archive", description = "Archived WAL (archive_command's directory)")
    Path walArchive;

    @Option(names = "--target-time", description = "Recover up to this ISO-8601 instant")
    String targetTime;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      var err = spec.commandLine().getErr();
      if (!Files.isRegularFile(from.resolve("yinxin-backup.json"))) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), from + " holds no yinxin-backup.json");
      }
      if (Files.exists(to) && Files.list(to).findAny().isPresent()) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), to + " exists and is not empty");
      }
      if ((walArchive == null) != (targetTime == null)) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--wal-archive and --target-time go together");
      }
      String recoveryTarget = null;
      if (targetTime != null) {
        try {
          // PostgreSQL takes microseconds at most; an ISO instant may carry nanoseconds.
          recoveryTarget =
              java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS'+00'")
                  .withZone(java.time.ZoneOffset.UTC)
                  .format(
                      Instant.parse(targetTime).truncatedTo(java.time.temporal.ChronoUnit.MICROS));
        } catch (java.time.format.DateTimeParseException e) {
          throw new picocli.CommandLine.ParameterException(
              spec.commandLine(),
              "--target-time must be an ISO-8601 instant, e.g. 2026-11-30T08:00:00Z");
        }
      }
      // Every file the manifest lists is there and unchanged, and the database copy is whole.
      JsonNode manifest = Node.JSON.readTree(Files.readString(from.resolve("yinxin-backup.json")));
      for (JsonNode f : manifest.path("files")) {
        Path p = from.resolve(f.path("path").asString()).normalize();
        if (!p.startsWith(from.normalize())
            || !Files.isRegularFile(p)
            || !sha256(p).equals(f.path("sha256").asString())) {
          throw new Node.Refused(1, "the backup is damaged: " + f.path("path").asString());
        }
      }
      run(
          err,
          List.of(tool("pg_verifybackup").toString(), "-q", from.resolve("database").toString()));
      Path source = from.resolve("database");
      try (Stream<Path> all = Files.walk(source)) {
        for (Path p : all.sorted().toList()) {
          Path target = to.resolve(source.relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(target);
          } else if (!p.getFileName().toString().equals("backup_manifest")) {
            Files.copy(p, target);
          }
        }
      }
      Files.setPosixFilePermissions(
          to, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
      StringBuilder auto = new StringBuilder("\n# yinxin restore\nport = " + port + "\n");
      if (targetTime != null) {
        auto.append("restore_command = 'cp ")
            .append(walArchive.toAbsolutePath())
            .append("/%f %p'\nrecovery_target_time = '")
            .append(recoveryTarget)
            .append("'\nrecovery_target_action = 'promote'\n");
        Files.writeString(to.resolve("recovery.signal"), "");
      }
      Files.writeString(
          to.resolve("postgresql.auto.conf"),
          auto.toString(),
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      spec.commandLine()
          .getOut()
          .printf(
              "restored %s into %s (port %d)%s; start it: pg_ctl -D %s start%n",
              from, to, port, targetTime == null ? "" : ", recovering to " + targetTime, to);
      return 0;
    }
  }

  static String sha256(Path f) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(f)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
