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
    description = "Keys: whether each key backend of a node can sign.",
    mixinStandardHelpOptions = true,
    subcommands = {KeysCommand.Health.class})
final class KeysCommand {

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
