package io.yinxin.ops.cli;

import io.yinxin.ops.YinxinApplication;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.springframework.boot.SpringApplication;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/** {@code yinxin serve}: runs the node with the given Spring settings. */
@Command(
    name = "serve",
    description = {
      "Run the node (every module) as configured; settings as --name=value.",
      "",
      "Example: yinxin serve --spring.profiles.active=prod --yinxin.keys.pkcs11.library=/usr/lib/softhsm/libsofthsm2.so"
    },
    mixinStandardHelpOptions = true)
final class ServeCommand implements Callable<Integer> {
  @Unmatched List<String> settings = new ArrayList<>();

  @Override
  public Integer call() {
    SpringApplication.run(YinxinApplication.class, settings.toArray(String[]::new));
    return -1; // the node runs until stopped; main does not exit
  }
}
