package io.yinxin.ops.cli;

import io.yinxin.audit.verify.LogMonitor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/** {@code yinxin monitor}: follows a log's checkpoints and tiles (see {@link LogMonitor}). */
@Command(
    name = "monitor",
    mixinStandardHelpOptions = true,
    description = {
      "Follow an evidence log's public checkpoints and tiles like a Certificate Transparency",
      "monitor: verify each checkpoint's signature and its consistency with the last one.",
      "Options: --log URL --key VKEY --state FILE [--once] [--interval 30s] [--metrics-file F]",
      "Exit: 0 ok (--once), 2 usage or unreachable (--once), 3 bad signature, 4 rollback, 5 fork.",
      "",
      "Example: yinxin monitor --log https://ca.example.gov.cn/audit --key VKEY --state m.state"
    })
final class MonitorCommand implements Callable<Integer> {
  @Unmatched List<String> args = new ArrayList<>();

  @Override
  public Integer call() {
    return LogMonitor.run(args.toArray(String[]::new), System.out, System.err);
  }
}
