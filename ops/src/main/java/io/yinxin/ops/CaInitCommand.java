package io.yinxin.ops;

import io.yinxin.ca.hierarchy.Hierarchy;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * {@code yinxin ca init}: creates the CA hierarchy of the configuration (what is missing only),
 * prints what it did and exits. The CLI starts the node without its web server for this.
 */
@Component
class CaInitCommand implements ApplicationRunner {
  private final Environment env;
  private final ObjectProvider<Hierarchy> hierarchy;
  private final ConfigurableApplicationContext context;

  CaInitCommand(
      Environment env,
      ObjectProvider<Hierarchy> hierarchy,
      ConfigurableApplicationContext context) {
    this.env = env;
    this.hierarchy = hierarchy;
    this.context = context;
  }

  @Override
  public void run(ApplicationArguments args) {
    if (!env.getProperty("yinxin.ca.init-only", Boolean.class, false)) {
      return;
    }
    Hierarchy h = hierarchy.getIfAvailable();
    if (h == null) {
      System.err.println("yinxin ca init: the CA module is disabled (yinxin.ca.enabled=false)");
      System.exit(SpringApplication.exit(context, () -> 2));
    }
    Hierarchy.InitReport r = h.init();
    r.created().forEach(c -> System.out.println("created   " + c));
    r.existing().forEach(c -> System.out.println("exists    " + c));
    System.out.println(
        "yinxin ca init: " + r.created().size() + " created, " + r.existing().size() + " existing");
    System.exit(SpringApplication.exit(context, () -> 0));
  }
}
