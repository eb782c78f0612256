package io.yinxin.ops.cli;

import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code yinxin emergency ...}: the one-command incident procedures (README, "Emergencies"). */
@Command(
    name = "emergency",
    description = "Incident procedures, each with a dry run: ca-compromise.",
    mixinStandardHelpOptions = true,
    subcommands = {EmergencyCommand.CaCompromise.class})
final class EmergencyCommand {
  @Command(
      name = "ca-compromise",
      mixinStandardHelpOptions = true,
      description = {
        "An issuing CA's key is compromised: revoke the CA's certificate at its parent, revoke",
        "every certificate it issued (reason cACompromise), publish the CRLs at once, create what",
        "the hierarchy file adds (the replacement CA and its OCSP signer) and, with --reissue,",
        "re-issue from the replacement for every subscriber whose own key is fine.",
        "Without --yes this is a dry run: it says what would happen and changes nothing.",
        "Token: $" + CaCommand.TOKEN_ENV + " (scope ca:emergency) or dev.json.",
        "",
        "Example: yinxin emergency ca-compromise citizen            # dry run",
        "         yinxin emergency ca-compromise citizen --yes --reissue"
      })
  static final class CaCompromise implements Callable<Integer> {
    @Mixin Node node;

    @Parameters(index = "0", paramLabel = "CA", description = "The compromised issuing CA")
    String ca;

    @Option(names = "--yes", description = "Run the procedure (without it: a dry run)")
    boolean yes;

    @Option(names = "--dry-run", description = "Only say what would happen (the default)")
    boolean dryRun;

    @Option(
        names = "--reissue",
        description = "Then re-issue the revoked certificates from the replacement CA")
    boolean reissue;

    @Option(
        names = "--batch",
        defaultValue = "500",
        description = "Certificates re-issued per request (default: ${DEFAULT-VALUE})")
    int batch;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      if (yes && dryRun) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--yes and --dry-run exclude each other");
      }
      String token = node.token(CaCommand.TOKEN_ENV, "caOperatorToken");
      String path = "/ca/v1/cas/" + CaCommand.enc(ca) + "/compromise";
      var out = spec.commandLine().getOut();
      if (!yes) {
        JsonNode plan =
            node.call(
                node.request(path + "?dryRun=true", token)
                    .POST(HttpRequest.BodyPublishers.noBody()));
        if (node.json) {
          out.println(Node.pretty(plan));
          return 0;
        }
        out.println("DRY RUN: nothing was changed. Add --yes to run it.");
        describe(out, plan, "would ");
        if (reissue) {
          out.println("  would then re-issue " + plan.path("awaitingReissue").asLong() + "+");
        }
        return 0;
      }
      JsonNode r =
          node.call(
              node.request(path + "?confirm=" + CaCommand.enc(ca), token)
                  .POST(HttpRequest.BodyPublishers.noBody()));
      List<JsonNode> batches = new ArrayList<>();
      if (!node.json) {
        describe(out, r, "");
        out.printf(
            "revoked %d certificates; CRLs published %.1f s after the start (all done in %.1f"
                + " s)%n",
            r.path("revoked").asLong(),
            r.path("millisToCrls").asLong() / 1000.0,
            r.path("millisTotal").asLong() / 1000.0);
        if (!r.path("created").isEmpty()) {
          out.println("created: " + join(r.path("created")));
        }
      }
      if (reissue) {
        JsonNode plan =
            node.call(
                node.request(path + "?dryRun=true", token)
                    .POST(HttpRequest.BodyPublishers.noBody()));
        Progress progress =
            new Progress(
                out,
                "re-issued",
                plan.path("awaitingReissue").asLong(),
                !node.json && Progress.onTerminal());
        long remaining;
        long reissued = 0;
        long passedOver = 0;
        int progressed;
        do {
          JsonNode b =
              node.call(
                  node.request("/ca/v1/cas/" + CaCommand.enc(ca) + "/reissue?limit=" + batch, token)
                      .POST(HttpRequest.BodyPublishers.noBody()));
          batches.add(b);
          for (int i = 0; i < b.path("reissued").size(); i++) {
            progress.step(true);
          }
          for (int i = 0; i < b.path("passedOver").size(); i++) {
            progress.step(true);
          }
          reissued += b.path("reissued").size();
          passedOver += b.path("passedOver").size();
          remaining = b.path("remaining").asLong();
          progressed = b.path("reissued").size() + b.path("passedOver").size();
        } while (remaining > 0 && progressed > 0);
        if (!node.json) {
          out.printf(
              "re-issued %d certificates; passed over %d (key revoked for its own sake, or a"
                  + " service certificate the hierarchy renews itself)%n",
              reissued, passedOver);
        }
      }
      if (node.json) {
        var all = Node.JSON.createObjectNode();
        all.set("procedure", r);
        all.set("reissue", Node.JSON.valueToTree(batches));
        out.println(Node.pretty(all));
      }
      return 0;
    }

    private void describe(java.io.PrintWriter out, JsonNode p, String would) {
      String ca = p.path("ca").asString();
      String parent = p.path("parent").asString();
      out.printf(
          "CA %s (certificate %s, issued by %s)%n", ca, p.path("caSerial").asString(), parent);
      if (p.path("caCertificateRevoked").asBoolean()) {
        out.printf(
            "  its certificate is revoked already (a re-run); %spublish %s's CRLs again%n",
            would, parent);
      } else {
        out.printf(
            "  %srevoke its certificate at %s (cACompromise) and publish %s's CRLs%n",
            would, parent, parent);
      }
      out.printf(
          "  %srevoke %d certificates it issued (cACompromise) and publish its CRLs, partitions %s%n",
          would, p.path("toRevoke").asLong(), p.path("partitions").toString());
      if (!p.path("toCreate").isEmpty()) {
        out.println("  " + would + "create: " + join(p.path("toCreate")));
      }
      if (!p.path("profilesNamingCa").isEmpty()) {
        out.println(
            "  WARNING: profiles still naming "
                + ca
                + " (refused from now on; their certificates are not re-issued until the"
                + " hierarchy file points them at a replacement): "
                + join(p.path("profilesNamingCa")));
      }
    }

    private static String join(JsonNode array) {
      List<String> s = new ArrayList<>();
      array.forEach(n -> s.add(n.asString()));
      return String.join(", ", s);
    }
  }
}
