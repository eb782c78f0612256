package io.yinxin.ops.cli;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code yinxin seal ...}: seal PDFs with a registered seal, validate sealed PDFs. */
@Command(
    name = "seal",
    description =
        "Seals: list the registered seals, sign PDF files or folders, verify sealed PDFs.",
    mixinStandardHelpOptions = true,
    subcommands = {SealCommand.ListSeals.class, SealCommand.Sign.class, SealCommand.Verify.class})
final class SealCommand {
  static final String TOKEN_ENV = "YINXIN_SEAL_TOKEN";

  /** The PDFs named: files as given, folders searched for *.pdf (sorted, so runs repeat). */
  static List<Path> pdfs(List<Path> inputs) throws IOException {
    List<Path> out = new ArrayList<>();
    for (Path p : inputs) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.walk(p)) {
          s.filter(Files::isRegularFile)
              .filter(f -> f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".pdf"))
              .sorted()
              .forEach(out::add);
        }
      } else if (Files.isRegularFile(p)) {
        out.add(p);
      } else {
        throw new picocli.CommandLine.ParameterException(
            new picocli.CommandLine(new SealCommand()), "no such file or folder: " + p);
      }
    }
    return out;
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {
        "List the registered seals, oldest first, a page at a time: when the page is full, the",
        "last line says which --after gives the next one. Token: $" + TOKEN_ENV + " (seal:admin)",
        "or dev.json.",
        "",
        "Example: yinxin seal list --grantee erp-portal"
      })
  static final class ListSeals implements Callable<Integer> {
    @Mixin Node node;

    @Option(names = "--grantee", description = "Only the seals this caller may use")
    String grantee;

    @Option(names = "--after", description = "The last seal id of the previous page")
    String after;

    @Option(names = "--limit", description = "At most this many (1-1000, default 100)")
    Integer limit;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r =
          node.call(
              node.request(
                      "/sign/v1/seals"
                          + Node.query("grantee", grantee, "after", after, "limit", limit),
                      node.token(TOKEN_ENV, "sealToken"))
                  .GET());
      if (node.json) {
        spec.commandLine().getOut().println(Node.pretty(r));
        return 0;
      }
      for (JsonNode s : r.path("items")) {
        spec.commandLine()
            .getOut()
            .printf(
                "%s %-8s %-14s %s%s%n",
                s.path("id").asString(),
                s.path("status").asString(),
                s.path("algorithm").asString(),
                s.path("name").asString(),
                s.path("subLine").asString().isEmpty() ? "" : " " + s.path("subLine").asString());
      }
      Node.printNext(spec, r);
      return 0;
    }
  }

  @Command(
      name = "sign",
      mixinStandardHelpOptions = true,
      description = {
        "Seal every PDF named (folders: every *.pdf in them) with one seal; each result goes to",
        "--out under the same name. Progress with rate and ETA on a terminal, plain lines",
        "otherwise. Token: $" + TOKEN_ENV + " (seal:use) or dev.json. Exit 1 if any failed.",
        "",
        "Example: yinxin seal sign --seal 7d3c… --level B-LT --out sealed/ contracts/"
      })
  static final class Sign implements Callable<Integer> {
    @Mixin Node node;

    @Option(names = "--seal", description = "Seal id (default: demoSealId of dev.json)")
    String seal;

    @Option(names = "--level", description = "B-B, B-T, B-LT or B-LTA (default: the node's)")
    String level;

    @Option(names = "--out", required = true, description = "Folder for the sealed PDFs")
    Path out;

    @Parameters(arity = "1..*", paramLabel = "FILE|FOLDER")
    List<Path> inputs;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      String id =
          seal != null
              ? seal
              : node.dev()
                  .map(d -> d.path("demoSealId").asString())
                  .filter(s -> !s.isBlank())
                  .orElseThrow(
                      () ->
                          new picocli.CommandLine.ParameterException(
                              spec.commandLine(), "--seal is required"));
      String token = node.token(TOKEN_ENV, "sealToken");
      List<Path> files = pdfs(inputs);
      Files.createDirectories(out);
      Progress progress =
          new Progress(spec.commandLine().getErr(), "sealed", files.size(), Progress.onTerminal());
      List<Map<String, Object>> results = new ArrayList<>();
      int failed = 0;
      for (Path f : files) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("file", f.toString());
        HttpResponse<byte[]> answer =
            node.send(
                node.request(
                        "/sign/v1/seals/"
                            + CaCommand.enc(id)
                            + "/sign"
                            + (level == null ? "" : "?level=" + CaCommand.enc(level)),
                        token)
                    .header("Content-Type", "application/pdf")
                    .POST(HttpRequest.BodyPublishers.ofFile(f)));
        boolean ok = answer.statusCode() == 200;
        if (ok) {
          Path target = out.resolve(f.getFileName().toString());
          Files.write(target, answer.body());
          r.put("sealed", target.toString());
        } else {
          failed++;
          r.put("status", answer.statusCode());
          r.put("error", new String(answer.body(), StandardCharsets.UTF_8));
          spec.commandLine()
              .getErr()
              .println("yinxin: " + f + ": the node answered " + answer.statusCode());
        }
        results.add(r);
        progress.step(ok);
      }
      if (node.json) {
        spec.commandLine()
            .getOut()
            .println(Node.JSON.writeValueAsString(Map.of("results", results)));
      } else {
        spec.commandLine()
            .getOut()
            .println((files.size() - failed) + " sealed, " + failed + " failed, into " + out);
      }
      return failed == 0 ? 0 : YinxinCli.REFUSED;
    }
  }

  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Validate the signatures of PDFs at the node (EU DSS, and SM2 seals). Exit 1 unless every",
        "signature of every file is TOTAL_PASSED.",
        "",
        "Example: yinxin seal verify sealed/*.pdf"
      })
  static final class Verify implements Callable<Integer> {
    @Mixin Node node;

    @Parameters(arity = "1..*", paramLabel = "FILE|FOLDER")
    List<Path> inputs;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      List<Path> files = pdfs(inputs);
      Progress progress =
          new Progress(
              spec.commandLine().getErr(), "validated", files.size(), Progress.onTerminal());
      boolean all = true;
      List<Object> reports = new ArrayList<>();
      for (Path f : files) {
        JsonNode r =
            node.call(
                node.request("/sign/v1/validate", null)
                    .header("Content-Type", "application/pdf")
                    .POST(HttpRequest.BodyPublishers.ofFile(f)));
        List<String> indications = new ArrayList<>();
        for (JsonNode s : r.path("signatures")) {
          indications.add(s.path("indication").asString());
        }
        for (JsonNode s : r.path("sm2Signatures")) {
          indications.add(s.path("indication").asString());
        }
        boolean ok =
            !indications.isEmpty() && indications.stream().allMatch("TOTAL_PASSED"::equals);
        all &= ok;
        reports.add(Map.of("file", f.toString(), "report", r));
        if (!node.json) {
          spec.commandLine()
              .getOut()
              .println(
                  f
                      + ": "
                      + (indications.isEmpty() ? "no signature" : String.join(", ", indications)));
        }
        progress.step(ok);
      }
      if (node.json) {
        spec.commandLine()
            .getOut()
            .println(Node.JSON.writeValueAsString(Map.of("results", reports)));
      }
      return all ? 0 : YinxinCli.REFUSED;
    }
  }
}
