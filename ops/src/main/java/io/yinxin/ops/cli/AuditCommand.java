package io.yinxin.ops.cli;

import io.yinxin.audit.verify.AuditVerify;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;
import tools.jackson.databind.JsonNode;

/** {@code yinxin audit ...}: the evidence log. */
@Command(
    name = "audit",
    description = "Evidence: check a node's log, fetch a bundle, verify a bundle offline.",
    mixinStandardHelpOptions = true,
    subcommands = {AuditCommand.Check.class, AuditCommand.Bundle.class, AuditCommand.Verify.class})
final class AuditCommand {
  static final String TOKEN_ENV = "YINXIN_AUDITOR_TOKEN";

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Have the node recompute its whole tree from the raw rows and compare it with its",
        "checkpoints and tiles. Token: $"
            + TOKEN_ENV
            + " or dev.json. Exit 1 if it finds problems.",
        "",
        "Example: yinxin audit check --url https://ca.example.gov.cn"
      })
  static final class Check implements Callable<Integer> {
    @Mixin Node node;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      // NDJSON: progress lines while the node recomputes the tree, then the report.
      var answer =
          node.lines(
              node.request("/audit/v1/check?progress=true", node.token(TOKEN_ENV, "auditorToken"))
                  .GET());
      if (answer.statusCode() >= 400) {
        throw new Node.Refused(
            answer.statusCode(), String.join("\n", answer.body().limit(20).toList()));
      }
      JsonNode r = null;
      Progress progress = null;
      for (String line : (Iterable<String>) answer.body()::iterator) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode n = Node.JSON.readTree(line);
        if (n.has("checked")) {
          if (!node.json) {
            if (progress == null) {
              progress =
                  new Progress(
                      spec.commandLine().getErr(), // stdout keeps the one-line result
                      "entries checked",
                      n.path("size").asLong(),
                      Progress.onTerminal());
            }
            progress.advanceTo(n.path("checked").asLong());
          }
        } else {
          r = n;
        }
      }
      if (r == null) {
        throw new Node.Refused(answer.statusCode(), "no report in the answer");
      }
      boolean ok = r.path("ok").asBoolean();
      PrintOut.print(
          spec,
          node,
          r,
          (ok ? "consistent" : "INCONSISTENT")
              + ": size "
              + r.path("size").asLong()
              + ", checkpoint "
              + r.path("checkpointSize").asLong()
              + (ok ? "" : ", problems " + r.path("problems")));
      return ok ? 0 : YinxinCli.REFUSED;
    }
  }

  @Command(
      name = "bundle",
      mixinStandardHelpOptions = true,
      description = {
        "Fetch an evidence bundle (events with their proofs and the signed checkpoint).",
        "",
        "Example: yinxin audit bundle --type CERT_ISSUED --from 2026-12-01T00:00:00Z --out b.json"
      })
  static final class Bundle implements Callable<Integer> {
    @Mixin Node node;

    @Option(names = "--type")
    String type;

    @Option(names = "--subject")
    String subject;

    @Option(names = "--from", description = "ISO-8601 instant")
    String from;

    @Option(names = "--to", description = "ISO-8601 instant")
    String to;

    @Option(names = "--out", required = true, description = "Where to write the bundle")
    Path out;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Map<String, Object> q = new LinkedHashMap<>();
      if (type != null) {
        q.put("type", type);
      }
      if (subject != null) {
        q.put("subject", subject);
      }
      if (from != null) {
        q.put("from", from);
      }
      if (to != null) {
        q.put("to", to);
      }
      JsonNode r =
          node.call(
              node.request("/audit/v1/bundles", node.token(TOKEN_ENV, "auditorToken"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(Node.JSON.writeValueAsString(q))));
      Files.writeString(out, Node.JSON.writeValueAsString(r));
      spec.commandLine()
          .getOut()
          .println("wrote " + out + " (" + r.path("entries").size() + " events)");
      return 0;
    }
  }

  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Verify an evidence bundle offline (audit-verify.jar): exit 0 only if every check passes.",
        "Options: BUNDLE --key VKEY [--witness VKEY ... --quorum K] [--since old-checkpoint.txt]",
        "         [--tsa-cert tsa.pem] [--json]",
        "",
        "Example: yinxin audit verify b.json --key yinxin.localhost/audit+1f2e3d4c+AQ…"
      })
  static final class Verify implements Callable<Integer> {
    @Unmatched List<String> args = new ArrayList<>();
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      return AuditVerify.run(args.toArray(String[]::new), System.out, System.err);
    }
  }
}
