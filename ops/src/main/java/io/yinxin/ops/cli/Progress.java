package io.yinxin.ops.cli;

import java.io.PrintWriter;
import java.time.Duration;

/**
 * Progress of a long job: on a terminal one line redrawn in place (bar, count, rate, ETA); when the
 * output is a file or a pipe, a plain line every 10 % and at the end, so logs stay readable.
 */
final class Progress {
  private final PrintWriter out;
  private final String what;
  private long total;
  private final boolean terminal;
  private final long start = System.nanoTime();
  private long done;
  private long failed;
  private int lastDecile = -1;

  Progress(PrintWriter out, String what, long total, boolean terminal) {
    this.out = out;
    this.what = what;
    this.total = total;
    this.terminal = terminal;
  }

  @SuppressWarnings("SystemConsoleNull") // Java 17: null when not a terminal
  static boolean onTerminal() {
    return System.console() != null && System.getenv("YINXIN_PLAIN_PROGRESS") == null;
  }

  /** A job whose size is an estimate (a database copy) says what it now expects. */
  void total(long expected) {
    total = Math.max(expected, done);
  }

  /** Moves to {@code count} done (a job that reports its position, not each item). */
  void advanceTo(long count) {
    if (count > done) {
      done = Math.min(count, total);
      show();
    }
  }

  /** The job is over: its size is what was done. */
  void finish() {
    if (total != done) {
      total = done;
      lastDecile = -1;
      show();
    }
  }

  void step(boolean ok) {
    done++;
    if (!ok) {
      failed++;
    }
    show();
  }

  private void show() {
    if (terminal) {
      out.print("\r" + line(true));
      if (done == total) {
        out.println();
      }
      out.flush();
    } else {
      int decile = total == 0 ? 10 : (int) (done * 10 / total);
      if (decile != lastDecile || done == total) {
        lastDecile = decile;
        out.println(line(false));
      }
    }
  }

  String line(boolean bar) {
    double seconds = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
    double rate = done / seconds;
    long eta = rate > 0 ? Math.round((total - done) / rate) : 0;
    StringBuilder b = new StringBuilder();
    if (bar) {
      int width = 30;
      int filled = total == 0 ? width : (int) (done * width / total);
      b.append('[').append("#".repeat(filled)).append(" ".repeat(width - filled)).append("] ");
    }
    b.append(what)
        .append(' ')
        .append(done)
        .append('/')
        .append(total)
        .append(String.format(java.util.Locale.ROOT, "  %.1f/s", rate))
        .append("  ETA ")
        .append(format(Duration.ofSeconds(eta)));
    if (failed > 0) {
      b.append("  failed ").append(failed);
    }
    return b.toString();
  }

  private static String format(Duration d) {
    long s = d.toSeconds();
    return s >= 3600
        ? String.format(java.util.Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
        : s >= 60 ? String.format(java.util.Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
  }
}
