package io.yinxin.ops.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code yinxin keys ...}: the key backends. */
@Command(
    name = "keys",
    description = "Keys: backend health; list, generate and CSRs for new seals' keys.",
    mixinStandardHelpOptions = true,
    subcommands = {
      KeysCommand.Health.class,
      KeysCommand.ListKeys.class,
      KeysCommand.Generate.class,
      KeysCommand.Csr.class
    })
final class KeysCommand {
  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {
        "Every key of the node's key backends: URI, type, SHA-256 of the public key.",
        "Token: $" + SealCommand.TOKEN_ENV + " (seal:admin) or dev.json.",
        "",
        "Example: yinxin keys list"
      })
  static final class ListKeys implements Callable<Integer> {
    @Mixin Node node;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r =
          node.call(
              node.request("/sign/v1/keys", node.token(SealCommand.TOKEN_ENV, "sealToken")).GET());
      if (node.json) {
        spec.commandLine().getOut().println(Node.pretty(r));
        return 0;
      }
      for (JsonNode k : r.path("keys")) {
        spec.commandLine()
            .getOut()
            .printf(
                "%-60s %-9s %s%n",
                k.path("key").asString(),
                k.path("type").asString(),
                k.path("publicKeySha256").asString());
      }
      return 0;
    }
  }

  @Command(
      name = "generate",
      mixinStandardHelpOptions = true,
      description = {
        "Generate a key for a new seal in a key backend (it never leaves it); prints its URI.",
        "Token: $" + SealCommand.TOKEN_ENV + " (seal:admin) or dev.json.",
        "",
        "Example: yinxin keys generate --backend pkcs11 --type EC_P256 --label seal-acme"
      })
  static final class Generate implements Callable<Integer> {
    @Mixin Node node;

    @picocli.CommandLine.Option(
        names = "--backend",
        required = true,
        description = "soft, pkcs11 or vault-transit")
    String backend;

    @picocli.CommandLine.Option(
        names = "--type",
        defaultValue = "EC_P256",
        description = "EC_P256 (default), EC_P384, RSA_3072, SM2 (soft only)")
    String type;

    @picocli.CommandLine.Option(names = "--label", required = true)
    String label;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r =
          node.call(
              node.request("/sign/v1/keys", node.token(SealCommand.TOKEN_ENV, "sealToken"))
                  .header("Content-Type", "application/json")
                  .POST(
                      java.net.http.HttpRequest.BodyPublishers.ofString(
                          Node.JSON.writeValueAsString(
                              Map.of("backend", backend, "type", type, "label", label)))));
      PrintOut.print(spec, node, r, r.path("key").asString());
      return 0;
    }
  }

  @Command(
      name = "csr",
      mixinStandardHelpOptions = true,
      description = {
        "Have a key sign a PKCS#10 request for its certificate (then: yinxin ca issue --csr).",
        "Token: $" + SealCommand.TOKEN_ENV + " (seal:admin) or dev.json.",
        "",
        "Example: yinxin keys csr soft:seal-acme --subject 'C=CN,O=某某公司,CN=某某公司' --out acme.csr"
      })
  static final class Csr implements Callable<Integer> {
    @Mixin Node node;

    @picocli.CommandLine.Parameters(index = "0", paramLabel = "KEY", description = "The key's URI")
    String key;

    @picocli.CommandLine.Option(names = "--subject", required = true, description = "RFC 4514 DN")
    String subject;

    @picocli.CommandLine.Option(names = "--out", required = true)
    java.nio.file.Path out;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      var r =
          node.send(
              node.request("/sign/v1/keys/csr", node.token(SealCommand.TOKEN_ENV, "sealToken"))
                  .header("Content-Type", "application/json")
                  .POST(
                      java.net.http.HttpRequest.BodyPublishers.ofString(
                          Node.JSON.writeValueAsString(Map.of("key", key, "subject", subject)))));
      String body = new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
      if (r.statusCode() >= 400) {
        throw new Node.Refused(r.statusCode(), body);
      }
      java.nio.file.Files.writeString(out, body);
      spec.commandLine().getOut().println("wrote " + out);
      return 0;
    }
  }

  @Command(
      name = "health",
      mixinStandardHelpOptions = true,
      description = {
        "Each key backend's state (the node's /actuator/health, component keys). Exit 1 if one",
        "cannot sign.",
        "",
        "Example: yinxin keys health --url http://127.0.0.1:8080"
      })
  static final class Health implements Callable<Integer> {
    @Mixin Node node;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      var r = node.send(node.request("/actuator/health", null).GET());
      JsonNode health =
          Node.JSON.readTree(new String(r.body(), java.nio.charset.StandardCharsets.UTF_8));
      JsonNode keys = health.path("components").path("keys");
      if (keys.isMissingNode()) {
        throw new Node.Refused(r.statusCode(), "no keys component in /actuator/health");
      }
      boolean up = "UP".equals(keys.path("status").asString());
      if (node.json) {
        spec.commandLine().getOut().println(Node.pretty(keys));
      } else {
        spec.commandLine().getOut().println("keys " + keys.path("status").asString());
        for (Map.Entry<String, JsonNode> b : keys.path("details").properties()) {
          spec.commandLine().getOut().println("  " + b.getKey() + ": " + b.getValue().asString());
        }
      }
      return up ? 0 : YinxinCli.REFUSED;
    }
  }
}
