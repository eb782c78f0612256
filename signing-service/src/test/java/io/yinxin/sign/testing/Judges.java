package io.yinxin.sign.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The outside judges of the PDFs we write: poppler's pdfsig and pdftoppm, qpdf, NSS certutil. */
public final class Judges {
  private Judges() {}

  /** Exit code and combined output. */
  public record Result(int exitCode, String output) {}

  public static Result run(Path dir, String... cmd) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(List.of(cmd)).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(p.waitFor(), out);
  }

  /** pdfsig's report; with {@code nssDir} set it also judges the chain against that database. */
  public static String pdfsig(Path pdf, Path nssDir) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("pdfsig"));
    if (nssDir != null) {
      cmd.add("-nssdir");
      cmd.add("sql:" + nssDir);
    }
    cmd.add(pdf.toString());
    return run(pdf.getParent(), cmd.toArray(String[]::new)).output();
  }

  /** An NSS database that trusts {@code rootPem} for signing. */
  public static Path nssTrusting(Path dir, Path rootPem) throws Exception {
    Path db = dir.resolve("nss");
    java.nio.file.Files.createDirectories(db);
    Result n = run(dir, "certutil", "-N", "-d", "sql:" + db, "--empty-password");
    if (n.exitCode() != 0) {
      throw new IllegalStateException(n.output());
    }
    Result a =
        run(
            dir,
            "certutil",
            "-A",
            "-d",
            "sql:" + db,
            "-n",
            "root",
            "-t",
            "CT,C,C",
            "-i",
            rootPem.toString());
    if (a.exitCode() != 0) {
      throw new IllegalStateException(a.output());
    }
    return db;
  }

  /** qpdf --check: exit 0 and no errors. */
  public static Result qpdfCheck(Path pdf) throws Exception {
    return run(pdf.getParent(), "qpdf", "--check", pdf.toString());
  }
}
