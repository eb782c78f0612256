package io.yinxin.ops.cli;

import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/** {@code yinxin client ...}: the OpenID Provider's registered clients (agency portals). */
@Command(
    name = "client",
    description = "SSO clients: register an agency portal, list them.",
    mixinStandardHelpOptions = true,
    subcommands = {ClientCommand.Register.class, ClientCommand.ListClients.class})
final class ClientCommand {
  static final String TOKEN_ENV = "YINXIN_SSO_ADMIN_TOKEN";

  @Command(
      name = "register",
      mixinStandardHelpOptions = true,
      description = {
        "Register a portal; prints its client_id and (once) its client_secret.",
        "Token: $" + TOKEN_ENV + " or dev.json.",
        "",
        "Example: yinxin client register --name 市场监管局 --redirect-uri https://portal.example/cb"
      })
  static final class Register implements Callable<Integer> {
    @Mixin Node node;

    @Option(names = "--name", required = true, description = "client_name")
    String name;

    @Option(names = "--redirect-uri", description = "Exact redirect URI (repeatable)")
    List<String> redirectUris = new ArrayList<>();

    @Option(
        names = "--grant",
        description = "Grant type (repeatable; default: authorization_code, refresh_token)")
    List<String> grants = new ArrayList<>();

    @Option(names = "--scope", defaultValue = "openid profile", description = "Space-separated")
    String scope;

    @Option(names = "--client-id", description = "Choose the client_id (default: generated)")
    String clientId;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Map<String, Object> body = new LinkedHashMap<>();
      if (clientId != null) {
        body.put("client_id", clientId);
      }
      body.put("client_name", name);
      body.put("redirect_uris", redirectUris);
      body.put(
          "grant_types",
          grants.isEmpty() ? List.of("authorization_code", "refresh_token") : grants);
      body.put("scope", scope);
      JsonNode r =
          node.call(
              node.request("/sso/v1/clients", node.token(TOKEN_ENV, "ssoAdminToken"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(Node.JSON.writeValueAsString(body))));
      PrintOut.print(
          spec,
          node,
          r,
          "client_id "
              + r.path("client_id").asString()
              + (r.has("client_secret")
                  ? "\nclient_secret " + r.path("client_secret").asString() + " (shown once)"
                  : ""));
      return 0;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {"List the registered clients' ids.", "", "Example: yinxin client list --json"})
  static final class ListClients implements Callable<Integer> {
    @Mixin Node node;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r =
          node.call(node.request("/sso/v1/clients", node.token(TOKEN_ENV, "ssoAdminToken")).GET());
      if (node.json) {
        spec.commandLine().getOut().println(Node.pretty(r));
        return 0;
      }
      for (JsonNode c : r.path("clients")) {
        spec.commandLine()
            .getOut()
            .println(c.isString() ? c.asString() : c.path("client_id").asString());
      }
      return 0;
    }
  }
}
