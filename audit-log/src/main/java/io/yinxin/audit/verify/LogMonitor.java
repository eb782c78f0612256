package io.yinxin.audit.verify;

import io.yinxin.audit.merkle.Rfc9162;
import io.yinxin.audit.merkle.SubtreeHashes;
import io.yinxin.audit.merkle.Tiles;
import io.yinxin.audit.note.Checkpoint;
import io.yinxin.audit.note.NoteVerifierKey;
import io.yinxin.audit.note.SignedNote;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * A monitor in the style of Certificate Transparency monitors, for a log with C2SP checkpoints and
 * tiles (ours at {@code https://host/audit}, or any mirror of it): it fetches the newest
 * checkpoint, checks its signature with the log's verifier key, and proves it consistent with the
 * last checkpoint it verified, from the log's own tiles (RFC 9162 §2.1.4 consistency proof,
 * recomputed here). What it verified is kept in a state file, written atomically, so a restart
 * resumes where it stopped and a log that rolls back or forks across the restart is still caught.
 *
 * <pre>
 * java -jar audit-verify.jar monitor --log https://ca.example.gov.cn/audit --key VKEY \
 *     --state monitor.state [--once] [--interval 30s] [--metrics-file yinxin-monitor.prom]
 * </pre>
 *
 * Every round prints one line ({@code event=monitor_verified ...}); an alarm prints {@code
 * event=monitor_alert kind=...} with both checkpoints on standard error and ends the monitor with
 * its exit status: 3 a checkpoint whose signature does not verify with the key (or names another
 * log), 4 a rollback (a smaller tree than one already verified), 5 a fork (the same size with
 * another root, or a larger tree not consistent with the verified one, or tiles that do not hash to
 * the signed root). 0 after {@code --once} when all is well, 2 for bad usage, or, with {@code
 * --once}, a log that cannot be reached. A state file the monitor did not write, or one for another
 * log, is refused (2) rather than overwritten. With {@code --metrics-file} it keeps a Prometheus
 * text file (for node_exporter's textfile collector) with {@code yinxin_monitor_verified_size},
 * {@code yinxin_monitor_last_verified_timestamp_seconds} and {@code yinxin_monitor_alert{kind}}.
 */
public final class LogMonitor {
  /** Exit statuses. */
  public static final int OK = 0;

  public static final int USAGE = 2;
  public static final int BAD_SIGNATURE = 3;
  public static final int ROLLBACK = 4;
  public static final int FORK = 5;

  private static final int MAX_CHECKPOINT_BYTES = 64 * 1024;

  private final String log;
  private final NoteVerifierKey key;

  /**
   * Keys the log used before a rotation: the state file may hold a checkpoint one of them signed,
   * never a new one.
   */
  private java.util.List<NoteVerifierKey> previousKeys = java.util.List.of();

  private final Path state;
  private final Optional<Path> metrics;
  private final PrintStream out;
  private final PrintStream err;
  private final Clock clock;
  private final HttpClient http =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(10))
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();
  private final Map<String, byte[]> tiles = new HashMap<>();

  LogMonitor(
      String log,
      NoteVerifierKey key,
      Path state,
      Optional<Path> metrics,
      PrintStream out,
      PrintStream err,
      Clock clock) {
    this.log = log.endsWith("/") ? log.substring(0, log.length() - 1) : log;
    this.key = key;
    this.state = state;
    this.metrics = metrics;
    this.out = out;
    this.err = err;
    this.clock = clock;
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the monitor; returns its exit status (see the class comment). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    String log = null;
    String key = null;
    java.util.List<String> previous = new java.util.ArrayList<>();
    Path state = null;
    Path metrics = null;
    boolean once = false;
    Duration interval = Duration.ofSeconds(30);
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--log" -> log = args[++i];
          case "--key" -> key = args[++i];
          case "--previous-key" -> previous.add(args[++i]);
          case "--state" -> state = Path.of(args[++i]);
          case "--metrics-file" -> metrics = Path.of(args[++i]);
          case "--once" -> once = true;
          case "--interval" -> interval = duration(args[++i]);
          case "-h", "--help" -> {
            out.println(usage());
            return OK;
          }
          default -> throw new IllegalArgumentException("unknown argument " + args[i]);
        }
      }
      if (log == null || key == null || state == null) {
        throw new IllegalArgumentException("--log, --key and --state are required");
      }
      URI base = URI.create(log);
      if (!"https".equals(base.getScheme()) && !"http".equals(base.getScheme())) {
        throw new IllegalArgumentException("--log must be an http or https URL");
      }
    } catch (RuntimeException e) {
      err.println("monitor: " + e.getMessage());
      err.println(usage());
      return USAGE;
    }
    NoteVerifierKey verifier;
    java.util.List<NoteVerifierKey> before = new java.util.ArrayList<>();
    try {
      verifier = NoteVerifierKey.parse(key);
      for (String p : previous) {
        before.add(NoteVerifierKey.parse(p));
      }
    } catch (RuntimeException e) {
      err.println("monitor: a key is not a note verifier key: " + e.getMessage());
      return USAGE;
    }
    LogMonitor m =
        new LogMonitor(
            log, verifier, state, Optional.ofNullable(metrics), out, err, Clock.systemUTC());
    m.previousKeys = java.util.List.copyOf(before);
    while (true) {
      int status = m.round(once);
      if (once || status != OK) {
        return status;
      }
      try {
        Thread.sleep(interval.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return OK;
      }
    }
  }

  private static String usage() {
    return "usage: monitor --log BASE_URL --key VERIFIER_KEY --state FILE [--once]"
        + " [--interval 30s] [--metrics-file FILE] [--previous-key OLD_KEY ...]";
  }

  private static Duration duration(String s) {
    if (!s.matches("[1-9][0-9]{0,5}(ms|s|m)")) {
      throw new IllegalArgumentException("--interval like 500ms, 30s or 5m");
    }
    long n = Long.parseLong(s.replaceAll("[a-z]+$", ""));
    return s.endsWith("ms")
        ? Duration.ofMillis(n)
        : s.endsWith("s") ? Duration.ofSeconds(n) : Duration.ofMinutes(n);
  }

  /** What the monitor last verified. */
  record Verified(long size, byte[] root, String note) {}

  /** One round: fetch, verify, compare, remember. Returns the exit status the round calls for. */
  int round(boolean once) {
    Optional<Verified> last;
    try {
      last = readState();
    } catch (IllegalStateException e) {
      err.println("monitor: " + Printable.line(String.valueOf(e.getMessage())));
      return USAGE;
    }
    String text;
    try {
      text = new String(fetch("/checkpoint", MAX_CHECKPOINT_BYTES), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return unreachable(e, once);
    }
    SignedNote note;
    Checkpoint cp;
    try {
      note = SignedNote.parse(text);
      cp = Checkpoint.parse(note.body());
    } catch (RuntimeException e) {
      return alarm(BAD_SIGNATURE, "bad_signature", "not a signed checkpoint", last, text);
    }
    if (!note.verifiedBy(key)) {
      return alarm(
          BAD_SIGNATURE, "bad_signature", "signature does not verify with the key", last, text);
    }
    if (!cp.origin().equals(key.name())) {
      return alarm(
          BAD_SIGNATURE, "bad_signature", "checkpoint of another log: " + cp.origin(), last, text);
    }
    tiles.clear();
    try {
      if (last.isPresent()) {
        Verified v = last.get();
        if (cp.size() < v.size()) {
          return alarm(
              ROLLBACK,
              "rollback",
              "tree of size " + cp.size() + " after size " + v.size() + " was verified",
              last,
              text);
        }
        if (cp.size() == v.size()) {
          if (!MessageDigest.isEqual(cp.root(), v.root())) {
            return alarm(FORK, "fork", "same size " + cp.size() + ", another root", last, text);
          }
          verified(cp, text, false);
          return OK;
        }
        if (v.size() > 0) {
          SubtreeHashes hashes = Tiles.subtreeHashes(this::tile, cp.size());
          List<byte[]> proof = Rfc9162.consistencyProof(hashes, v.size(), cp.size());
          if (!Rfc9162.verifyConsistency(v.size(), cp.size(), v.root(), cp.root(), proof)) {
            return alarm(
                FORK,
                "fork",
                "checkpoint " + cp.size() + " is not consistent with verified " + v.size(),
                last,
                text);
          }
        }
      }
      // The tiles must hash to the signed root, or the log serves a tree it did not sign.
      if (cp.size() > 0
          && !MessageDigest.isEqual(
              Rfc9162.root(Tiles.subtreeHashes(this::tile, cp.size()), cp.size()), cp.root())) {
        return alarm(FORK, "fork", "the tiles do not hash to the signed root", last, text);
      }
    } catch (UncheckedIOException e) {
      return unreachable(e, once);
    }
    verified(cp, text, true);
    return OK;
  }

  /** The log could not be read: an error for a single check, not an alarm; a loop goes on. */
  private int unreachable(Exception e, boolean once) {
    err.println(
        "event=monitor_unreachable log="
            + log
            + " reason=\""
            + Printable.quoted(e.getMessage())
            + "\"");
    return once ? USAGE : OK;
  }

  private void verified(Checkpoint cp, String note, boolean advanced) {
    writeState(new Verified(cp.size(), cp.root(), note));
    writeMetrics(cp.size(), null);
    out.println(
        "event=monitor_verified log="
            + cp.origin()
            + " size="
            + cp.size()
            + " root="
            + Base64.getEncoder().encodeToString(cp.root())
            + (advanced ? " consistent=true" : " unchanged=true"));
  }

  private int alarm(int status, String kind, String why, Optional<Verified> last, String seen) {
    err.println(
        "event=monitor_alert kind="
            + kind
            + " log="
            + key.name()
            + " reason=\""
            + Printable.quoted(why)
            + "\"");
    last.ifPresent(v -> err.println("last verified checkpoint:\n" + Printable.text(v.note())));
    err.println("checkpoint now served:\n" + Printable.text(seen));
    writeMetrics(last.map(Verified::size).orElse(0L), kind);
    return status;
  }

  private byte[] tile(int level, long index, int width) {
    String path = "/" + Tiles.path(new Tiles.TileId(level, index, width));
    byte[] t = tiles.get(path);
    if (t == null) {
      try {
        t = fetch(path, width * 32);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (t.length != width * 32) {
        throw new UncheckedIOException(
            new IOException(path + " has " + t.length + " bytes, not " + width * 32));
      }
      tiles.put(path, t);
    }
    return t;
  }

  /** GETs a path under the log; reads at most {@code max} bytes. */
  private byte[] fetch(String path, int max) throws IOException {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(log + path))
            .timeout(Duration.ofSeconds(30))
            .GET()
            .build();
    try {
      HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = r.body()) {
        if (r.statusCode() != 200) {
          throw new IOException(path + " answered " + r.statusCode());
        }
        byte[] body = in.readNBytes(max + 1);
        if (body.length > max) {
          throw new IOException(path + " is larger than " + max + " bytes");
        }
        return body;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static final String FORMAT = "yinxin-log-monitor/1";

  private Optional<Verified> readState() {
    if (!Files.exists(state)) {
      return Optional.empty();
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(state)) {
      p.load(in);
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException("state file " + state + " cannot be read", e);
    }
    if (!FORMAT.equals(p.getProperty("format"))) {
      throw new IllegalStateException("state file " + state + " was not written by this monitor");
    }
    // After a rotation the state may hold the last checkpoint the previous key signed: the next
    // one, signed by the new key, must still prove consistent with it.
    NoteVerifierKey stateKey =
        key.toString().equals(p.getProperty("key"))
            ? key
            : previousKeys.stream()
                .filter(k -> k.toString().equals(p.getProperty("key")))
                .findFirst()
                .orElseThrow(
                    () ->
                        new IllegalStateException(
                            "state file "
                                + state
                                + " belongs to another log key: "
                                + p.getProperty("key")
                                + " (after a rotation, pass it as --previous-key)"));
    try {
      String note = p.getProperty("checkpoint", "");
      Checkpoint cp = Checkpoint.parse(SignedNote.parse(note).body());
      // The state holds the signed note itself: a tampered state file fails here, not later.
      if (!SignedNote.parse(note).verifiedBy(stateKey)) {
        throw new IllegalStateException("state file " + state + " holds an unsigned checkpoint");
      }
      return Optional.of(new Verified(cp.size(), cp.root(), note));
    } catch (RuntimeException e) {
      if (e instanceof IllegalStateException) {
        throw e;
      }
      throw new IllegalStateException("state file " + state + " is damaged", e);
    }
  }

  private void writeState(Verified v) {
    Properties p = new Properties();
    p.setProperty("format", FORMAT);
    p.setProperty("key", key.toString());
    p.setProperty("checkpoint", v.note());
    replace(
        state,
        out -> {
          p.store(out, "what " + FORMAT + " last verified; do not edit");
        });
  }

  private void writeMetrics(long size, String alarm) {
    if (metrics.isEmpty()) {
      return;
    }
    String log = key.name().replace("\\", "\\\\").replace("\"", "\\\"");
    StringBuilder b = new StringBuilder();
    b.append("# HELP yinxin_monitor_verified_size Size of the newest checkpoint verified.\n")
        .append("# TYPE yinxin_monitor_verified_size gauge\n")
        .append("yinxin_monitor_verified_size{log=\"")
        .append(log)
        .append("\"} ")
        .append(size)
        .append('\n');
    if (alarm == null) {
      b.append(
              "# HELP yinxin_monitor_last_verified_timestamp_seconds When the monitor last"
                  + " verified the log.\n")
          .append("# TYPE yinxin_monitor_last_verified_timestamp_seconds gauge\n")
          .append("yinxin_monitor_last_verified_timestamp_seconds{log=\"")
          .append(log)
          .append("\"} ")
          .append(clock.millis() / 1000)
          .append('\n');
    }
    b.append("# HELP yinxin_monitor_alert 1 when the monitor caught the log lying.\n")
        .append("# TYPE yinxin_monitor_alert gauge\n");
    for (String kind : new String[] {"bad_signature", "rollback", "fork"}) {
      b.append("yinxin_monitor_alert{log=\"")
          .append(log)
          .append("\",kind=\"")
          .append(kind)
          .append("\"} ")
          .append(kind.equals(alarm) ? 1 : 0)
          .append('\n');
    }
    byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
    replace(metrics.get(), out -> out.write(bytes));
  }

  private interface Writer {
    void write(java.io.OutputStream out) throws IOException;
  }

  /** Writes a file next to {@code target} and moves it over, so readers never see half of it. */
  private static void replace(Path target, Writer w) {
    try {
      Path dir = target.toAbsolutePath().getParent();
      Path tmp = Files.createTempFile(dir, target.getFileName().toString(), ".tmp");
      try {
        try (var out = Files.newOutputStream(tmp)) {
          w.write(out);
        }
        try {
          Files.move(
              tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
