package io.yinxin.ops.cli;

import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/**
 * {@code yinxin user ...}: people's sign-in accounts at the SSO module. Each account gets a
 * one-time password that must be replaced at the first sign-in.
 */
@Command(
    name = "user",
    description =
        "Sign-in accounts: create one, import many from CSV; list them; show one, reset its password,"
            + " disable or enable it, remove its second factors, lift its sign-in blocks, sign it"
            + " out everywhere.",
    mixinStandardHelpOptions = true,
    subcommands = {
      UserCommand.Create.class,
      UserCommand.Import.class,
      UserCommand.ListAccounts.class,
      UserCommand.Show.class,
      UserCommand.ResetPassword.class,
      UserCommand.Disable.class,
      UserCommand.Enable.class,
      UserCommand.RemoveSecondFactors.class,
      UserCommand.Unblock.class,
      UserCommand.SignOut.class
    })
final class UserCommand {
  static final List<String> COLUMNS =
      List.of("username", "display_name", "name", "id_number", "phone", "verification");

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = {
        "Create an account; prints its one-time password (replaced at the first sign-in).",
        "Token: $" + ClientCommand.TOKEN_ENV + " or dev.json.",
        "",
        "The ID number and the phone number are asked for (or read from standard input, one",
        "line each, in that order), never given on the command line: the process list and the",
        "shell history would keep them.",
        "",
        "Example: yinxin user create zhangsan --display-name 张三 --name 张三 \\",
        "           --id-number --verification certificate"
      })
  static final class Create implements Callable<Integer> {
    @Mixin Node node;

    @Parameters(index = "0", paramLabel = "USERNAME")
    String username;

    @Option(names = "--display-name")
    String displayName;

    @Option(names = "--name", description = "Real name (实名)")
    String name;

    @Option(
        names = "--id-number",
        arity = "0..1",
        fallbackValue = ASK,
        description = "Ask for the resident ID number (居民身份证号码)")
    String idNumber;

    @Option(
        names = "--phone",
        arity = "0..1",
        fallbackValue = ASK,
        description = "Ask for the phone number")
    String phone;

    @Option(
        names = "--verification",
        description = "self_declared (default), certificate or federation")
    String verification;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws java.io.IOException {
      Map<String, String> row = new LinkedHashMap<>();
      row.put("username", username);
      put(row, "display_name", displayName);
      put(row, "name", name);
      // Both checked before either is asked for: a number typed on the command line is refused
      // before anything is read or sent.
      onlyAsked("--id-number", idNumber);
      onlyAsked("--phone", phone);
      if (idNumber != null) {
        row.put("id_number", ask("居民身份证号码 Resident ID number"));
      }
      if (phone != null) {
        row.put("phone", ask("手机号码 Phone number"));
      }
      put(row, "verification", verification);
      JsonNode r = create(node, row);
      PrintOut.print(
          spec,
          node,
          r,
          r.path("username").asString()
              + " created; one-time password: "
              + r.path("one_time_password").asString());
      return 0;
    }

    private static void put(Map<String, String> m, String k, String v) {
      if (v != null) {
        m.put(k, v);
      }
    }

    /** A personal number may come only from the terminal or standard input, not from argv. */
    private void onlyAsked(String option, String value) {
      if (value != null && !ASK.equals(value)) {
        // The value itself is not repeated: it is already in the process list and the history.
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(),
            option
                + " takes no value on the command line, where the process list and the shell"
                + " history would keep it: give "
                + option
                + " alone and type the number when asked, or pipe it in on standard input");
      }
    }

    private java.io.BufferedReader stdin;

    /** One line: typed at the terminal after a prompt, or the next line of standard input. */
    private String ask(String prompt) throws java.io.IOException {
      java.io.Console console = System.console();
      String line;
      if (console != null) {
        line = console.readLine("%s: ", prompt);
      } else {
        if (stdin == null) {
          stdin =
              new java.io.BufferedReader(
                  new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8));
        }
        line = stdin.readLine();
      }
      if (line == null || line.isBlank()) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), prompt + ": nothing given");
      }
      return line.strip();
    }
  }

  /** The value picocli gives an option that came without one: ask for it. */
  private static final String ASK = "\u0000ask";

  @Command(
      name = "import",
      mixinStandardHelpOptions = true,
      description = {
        "Create the accounts of a CSV file (UTF-8, a header row naming any of the columns",
        "username, display_name, name, id_number, phone, verification; username required).",
        "Writes username,one_time_password for each account created to --out (owner-only file);",
        "a row that is refused is reported with its number (the header is row 1) and skipped. Exit 1 if any was.",
        "",
        "Example: yinxin user import people.csv --out passwords.csv"
      })
  static final class Import implements Callable<Integer> {
    @Mixin Node node;

    @Parameters(index = "0", paramLabel = "FILE.csv")
    Path file;

    @Option(
        names = "--out",
        required = true,
        description = "Where the one-time passwords go (created; must not exist)")
    Path out;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      List<List<String>> rows = Csv.parse(Files.readString(file, StandardCharsets.UTF_8));
      if (rows.isEmpty() || !rows.get(0).contains("username")) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "the first row must name the columns, username among them");
      }
      List<String> header = rows.get(0);
      for (String h : header) {
        if (!COLUMNS.contains(h)) {
          throw new picocli.CommandLine.ParameterException(
              spec.commandLine(), "unknown column " + h + "; known: " + COLUMNS);
        }
      }
      var text = spec.commandLine().getOut();
      var err = spec.commandLine().getErr();
      Files.createFile(
          out, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Progress progress =
          new Progress(text, "accounts", rows.size() - 1, !node.json && Progress.onTerminal());
      int created = 0;
      List<Map<String, Object>> refused = new ArrayList<>();
      Files.writeString(out, "username,one_time_password\n", StandardOpenOption.APPEND);
      for (int i = 1; i < rows.size(); i++) {
        List<String> values = rows.get(i);
        Map<String, String> row = new LinkedHashMap<>();
        for (int j = 0; j < header.size() && j < values.size(); j++) {
          if (!values.get(j).isEmpty()) {
            row.put(header.get(j), values.get(j));
          }
        }
        String problem = null;
        JsonNode r = null;
        if (values.size() != header.size()) {
          problem = values.size() + " fields where the header has " + header.size();
        } else {
          try {
            r = create(node, row);
          } catch (Node.Refused e) {
            problem = e.getMessage();
          }
        }
        if (problem == null) {
          Files.writeString(
              out,
              r.path("username").asString() + "," + r.path("one_time_password").asString() + "\n",
              StandardOpenOption.APPEND);
          created++;
          progress.step(true);
        } else {
          Map<String, Object> f = new LinkedHashMap<>();
          f.put("row", i + 1);
          f.put("reason", problem);
          refused.add(f);
          err.println("row " + (i + 1) + ": " + problem);
          progress.step(false);
        }
      }
      if (node.json) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("created", created);
        summary.put("refused", refused);
        summary.put("passwords", out.toString());
        text.println(Node.pretty(Node.JSON.valueToTree(summary)));
      } else {
        text.printf(
            "created %d accounts, refused %d; one-time passwords in %s%n",
            created, refused.size(), out);
      }
      return refused.isEmpty() ? 0 : YinxinCli.REFUSED;
    }
  }

  /** One account's path under the admin API ({@code /sso/v1/accounts/{username}...}). */
  private static HttpRequest.Builder account(Node node, String username, String rest) {
    return node.request(
        "/sso/v1/accounts/"
            + java.net.URLEncoder.encode(username, StandardCharsets.UTF_8).replace("+", "%20")
            + rest,
        node.token(ClientCommand.TOKEN_ENV, "ssoAdminToken"));
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {
        "List accounts in username order, a page at a time (the last line names the next page's",
        "--after).",
        "",
        "Example: yinxin user list --prefix zhang --limit 20"
      })
  static final class ListAccounts implements Callable<Integer> {
    @Mixin Node node;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--prefix", description = "Only usernames that start with this")
    String prefix;

    @Option(names = "--after", description = "The last username of the previous page")
    String after;

    @Option(names = "--limit", description = "At most this many (1-100, default 50)")
    Integer limit;

    @Override
    public Integer call() {
      JsonNode r =
          node.call(
              node.request(
                      "/sso/v1/accounts"
                          + Node.query("prefix", prefix, "after", after, "limit", limit),
                      node.token(ClientCommand.TOKEN_ENV, "ssoAdminToken"))
                  .GET());
      if (node.json) {
        spec.commandLine().getOut().println(Node.pretty(r));
        return 0;
      }
      for (JsonNode a : r.path("accounts")) {
        spec.commandLine()
            .getOut()
            .println(
                a.path("username").asString()
                    + (a.path("enabled").asBoolean() ? "" : " DISABLED")
                    + (a.path("administrator").asBoolean() ? " administrator" : ""));
      }
      Node.printNext(spec, r);
      return 0;
    }
  }

  /** A command about one account, named on the command line. */
  abstract static class OneAccount implements Callable<Integer> {
    @Mixin Node node;

    @Parameters(index = "0", paramLabel = "USERNAME")
    String username;

    @Spec picocli.CommandLine.Model.CommandSpec spec;
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = {
        "An account's state: enabled, password to be replaced, second factors.",
        "",
        "Example: yinxin user show zhangsan"
      })
  static final class Show extends OneAccount {

    @Override
    public Integer call() {
      JsonNode r = node.call(account(node, username, "").GET());
      PrintOut.print(
          spec,
          node,
          r,
          r.path("username").asString()
              + (r.path("enabled").asBoolean() ? " enabled" : " DISABLED")
              + (r.path("must_change_password").asBoolean() ? ", password to be replaced" : "")
              + ", TOTP "
              + (r.path("totp").asBoolean() ? "on" : "off")
              + ", passkeys "
              + r.path("passkeys").asInt()
              + (r.path("password_blocked_until").isString()
                  ? ", password blocked until " + r.path("password_blocked_until").asString()
                  : "")
              + (r.path("second_step_blocked_until").isString()
                  ? ", second step blocked until " + r.path("second_step_blocked_until").asString()
                  : ""));
      return 0;
    }
  }

  @Command(
      name = "reset-password",
      mixinStandardHelpOptions = true,
      description = {
        "Give a person who forgot their password a new one-time password (replaced at the next",
        "sign-in); every session and token of the account ends.",
        "",
        "Example: yinxin user reset-password zhangsan"
      })
  static final class ResetPassword extends OneAccount {

    @Override
    public Integer call() {
      JsonNode r =
          node.call(
              account(node, username, "/password-reset").POST(HttpRequest.BodyPublishers.noBody()));
      PrintOut.print(
          spec,
          node,
          r,
          r.path("username").asString()
              + ": one-time password: "
              + r.path("one_time_password").asString());
      return 0;
    }
  }

  /** Sets whether an account may sign in ({@link #target}); the two commands below. */
  abstract static class SetEnabled extends OneAccount {

    abstract boolean target();

    @Override
    public Integer call() {
      boolean enabled = target();
      JsonNode r =
          node.call(
              account(node, username, "/enabled")
                  .header("Content-Type", "application/json")
                  .PUT(HttpRequest.BodyPublishers.ofString("{\"enabled\": " + enabled + "}")));
      String state = enabled ? "enabled" : "disabled";
      PrintOut.print(
          spec,
          node,
          r,
          r.path("username").asString()
              + (r.path("changed").asBoolean() ? " " + state : " was " + state + " already"));
      return 0;
    }
  }

  @Command(
      name = "disable",
      mixinStandardHelpOptions = true,
      description = {
        "Disable an account: it signs in by no method; its sessions and tokens end.",
        "",
        "Example: yinxin user disable zhangsan"
      })
  static final class Disable extends SetEnabled {
    @Override
    boolean target() {
      return false;
    }
  }

  @Command(
      name = "enable",
      mixinStandardHelpOptions = true,
      description = {"Enable an account.", "", "Example: yinxin user enable zhangsan"})
  static final class Enable extends SetEnabled {
    @Override
    boolean target() {
      return true;
    }
  }

  @Command(
      name = "remove-second-factors",
      mixinStandardHelpOptions = true,
      description = {
        "Remove an account's TOTP app, recovery codes and passkeys (a lost phone); every session",
        "and token of the account ends, and the password alone signs in until new ones are set up.",
        "",
        "Example: yinxin user remove-second-factors zhangsan"
      })
  static final class RemoveSecondFactors extends OneAccount {

    @Override
    public Integer call() {
      JsonNode r = node.call(account(node, username, "/second-factors").DELETE());
      PrintOut.print(
          spec,
          node,
          r,
          r.path("username").asString()
              + ": removed "
              + r.path("totp").asInt()
              + " TOTP app(s), "
              + r.path("recovery_codes").asInt()
              + " recovery code(s), "
              + r.path("passkeys").asInt()
              + " passkey(s)");
      return 0;
    }
  }

  @Command(
      name = "unblock",
      mixinStandardHelpOptions = true,
      description = {
        "Lift the blocks an account's own failed attempts put on it (password and second step),",
        "so the person need not wait for them to end.",
        "",
        "Example: yinxin user unblock zhangsan"
      })
  static final class Unblock extends OneAccount {

    @Override
    public Integer call() {
      JsonNode r = node.call(account(node, username, "/sign-in-blocks").DELETE());
      PrintOut.print(
          spec,
          node,
          r,
          r.path("username").asString()
              + (r.path("lifted").asBoolean()
                  ? ": sign-in blocks lifted"
                  : ": no sign-in blocks, nothing changed"));
      return 0;
    }
  }

  @Command(
      name = "sign-out",
      mixinStandardHelpOptions = true,
      description = {
        "Sign a person out everywhere: every session and token of the account ends, and its",
        "portals are told (back-channel logout).",
        "",
        "Example: yinxin user sign-out zhangsan"
      })
  static final class SignOut extends OneAccount {
    @Override
    public Integer call() {
      JsonNode r =
          node.call(account(node, username, "/sign-out").POST(HttpRequest.BodyPublishers.noBody()));
      PrintOut.print(spec, node, r, r.path("username").asString() + " signed out of every session");
      return 0;
    }
  }

  static JsonNode create(Node node, Map<String, String> row) {
    return node.call(
        node.request("/sso/v1/accounts", node.token(ClientCommand.TOKEN_ENV, "ssoAdminToken"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(Node.JSON.writeValueAsString(row))));
  }

  /** RFC 4180 CSV: commas, double-quoted fields with doubled quotes, CRLF or LF. */
  static final class Csv {
    private Csv() {}

    static List<List<String>> parse(String s) {
      if (s.startsWith("\uFEFF")) {
        s = s.substring(1); // a BOM, as spreadsheet programs write
      }
      List<List<String>> rows = new ArrayList<>();
      List<String> row = new ArrayList<>();
      StringBuilder f = new StringBuilder();
      boolean quoted = false;
      boolean any = false;
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (quoted) {
          if (c == '"' && i + 1 < s.length() && s.charAt(i + 1) == '"') {
            f.append('"');
            i++;
          } else if (c == '"') {
            quoted = false;
          } else {
            f.append(c);
          }
        } else if (c == '"') {
          quoted = true;
          any = true;
        } else if (c == ',') {
          row.add(f.toString().strip());
          f.setLength(0);
          any = true;
        } else if (c == '\n' || c == '\r') {
          if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
            i++;
          }
          if (any || f.length() > 0) {
            row.add(f.toString().strip());
            rows.add(row);
          }
          row = new ArrayList<>();
          f.setLength(0);
          any = false;
        } else {
          f.append(c);
        }
      }
      if (quoted) {
        throw new IllegalArgumentException("a quoted field is not closed");
      }
      if (any || f.length() > 0) {
        row.add(f.toString().strip());
        rows.add(row);
      }
      return rows;
    }
  }
}
