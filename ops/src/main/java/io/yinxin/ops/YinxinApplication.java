package io.yinxin.ops;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The Yinxin node: every module's auto-configuration, assembled into one executable. */
@SpringBootApplication
public class YinxinApplication {
  /**
   * Runs the node, or, when the first argument is a command ({@code ca}, {@code audit}, {@code
   * monitor}, {@code keys}, {@code seal}, {@code client}, {@code help}, ...), the {@code yinxin}
   * command line and exits with its status.
   */
  public static void main(String[] args) {
    if (io.yinxin.ops.cli.YinxinCli.isCommand(args)) {
      int status = io.yinxin.ops.cli.YinxinCli.run(args);
      if (status >= 0) {
        System.exit(status);
      }
      return; // serve: the node runs
    }
    SpringApplication.run(YinxinApplication.class, args);
  }
}
