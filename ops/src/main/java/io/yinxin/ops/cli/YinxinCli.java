package io.yinxin.ops.cli;

import java.io.PrintWriter;
import java.util.Set;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code yinxin} command line (picocli), in the executable jar: {@code java -jar yinxin.jar
 * COMMAND ...}; {@code ops/bin/yinxin} stays the entry point. Exit codes: 0 done, 1 the node or a
 * check refused (a 4xx/5xx answer, an invalid bundle), 2 bad usage, 3 the node cannot be reached;
 * {@code monitor} adds 3/4/5 for a bad signature, a rollback, a fork.
 */
@Command(
    name = "yinxin",
    mixinStandardHelpOptions = true,
    versionProvider = YinxinCli.Version.class,
    description = {
      "Yinxin (印信): certificates, seals, single sign-on and evidence for e-government.",
      "",
      "Example: yinxin ca list --profile citizen-sign"
    },
    subcommands = {
      ServeCommand.class,
      CaCommand.class,
      AuditCommand.class,
      MonitorCommand.class,
      KeysCommand.class,
      SealCommand.class,
      ClientCommand.class,
      EmergencyCommand.class,
      UserCommand.class,
      BackupCommand.Backup.class,
      BackupCommand.Restore.class,
      AutoComplete.GenerateCompletion.class,
      CommandLine.HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:done",
      "1:the node or a check refused",
      "2:bad usage",
      "3:the node cannot be reached"
    })
public final class YinxinCli {
  static final int REFUSED = 1;
  static final int USAGE = 2;
  static final int UNREACHABLE = 3;

  /** Names that make the executable jar run the command line instead of the node. */
  private static final Set<String> COMMANDS =
      Set.of(
          "ca",
          "audit",
          "monitor",
          "keys",
          "seal",
          "client",
          "emergency",
          "user",
          "backup",
          "restore",
          "generate-completion",
          "help",
          "serve",
          "--help",
          "-h",
          "--version",
          "-V");

  public static boolean isCommand(String[] args) {
    return args.length > 0 && COMMANDS.contains(args[0]);
  }

  public static int run(String[] args) {
    return commandLine().execute(args);
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new YinxinCli());
    cl.setExecutionExceptionHandler(
        (e, commandLine, parsed) -> {
          PrintWriter err = commandLine.getErr();
          if (e instanceof Node.Unreachable) {
            err.println("yinxin: " + e.getMessage());
            return UNREACHABLE;
          }
          if (e instanceof Node.Refused) {
            err.println("yinxin: " + e.getMessage());
            return REFUSED;
          }
          if (e instanceof CommandLine.ParameterException p) {
            err.println("yinxin: " + p.getMessage());
            return USAGE;
          }
          err.println("yinxin: " + e);
          return REFUSED;
        });
    cl.getSubcommands().get("generate-completion").getCommandSpec().usageMessage().hidden(false);
    return cl;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = YinxinCli.class.getPackage().getImplementationVersion();
      return new String[] {"yinxin " + (v == null ? "development build" : v)};
    }
  }
}
