package io.yinxin.ops.cli;

import picocli.CommandLine.Model.CommandSpec;
import tools.jackson.databind.JsonNode;

/** Prints a node's answer: its JSON with {@code --json}, else one line of text. */
final class PrintOut {
  private PrintOut() {}

  static void print(CommandSpec spec, Node node, JsonNode answer, String text) {
    spec.commandLine().getOut().println(node.json ? Node.pretty(answer) : text);
    spec.commandLine().getOut().flush();
  }
}
