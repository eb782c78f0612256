package io.yinxin.ops;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.config.ConfigDataEnvironmentPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * {@code yinxin.modules}: which modules this node runs, so that they scale separately ({@code
 * ca,audit} on two nodes, {@code sso} on four). Unset or {@code all}: every module. It is a
 * shorthand for the modules' own switches ({@code yinxin.ca.enabled}, {@code yinxin.audit.enabled},
 * {@code yinxin.sign.enabled}, {@code yinxin.sso.enabled}); a switch set to the opposite of the
 * list is refused rather than silently overridden. A node without {@code audit} must name the node
 * that hosts the log ({@code yinxin.audit.remote.url}): every module records its evidence there.
 * Runs once the configuration files are read.
 */
class ModuleSelection implements EnvironmentPostProcessor, Ordered {
  static final List<String> MODULES = List.of("ca", "audit", "sign", "sso");

  @Override
  public int getOrder() {
    return ConfigDataEnvironmentPostProcessor.ORDER + 1;
  }

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    // A comma-separated string or a YAML list; "all" or nothing: every module.
    List<String> names =
        org.springframework.boot.context.properties.bind.Binder.get(environment)
            .bind(
                "yinxin.modules",
                org.springframework.boot.context.properties.bind.Bindable.listOf(String.class))
            .orElse(List.of());
    String value = String.join(",", names).strip();
    if (value.isEmpty() || value.equalsIgnoreCase("all")) {
      return;
    }
    Set<String> selected = parse(value);
    Map<String, Object> switches = new LinkedHashMap<>();
    for (String module : MODULES) {
      boolean on = selected.contains(module);
      String key = "yinxin." + module + ".enabled";
      String explicit = environment.getProperty(key);
      if (explicit != null && Boolean.parseBoolean(explicit.strip()) != on) {
        throw new IllegalStateException(
            "yinxin.modules="
                + value
                + (on ? " includes " : " leaves out ")
                + module
                + " but "
                + key
                + "="
                + explicit
                + " says the opposite: set only one of them");
      }
      switches.put(key, Boolean.toString(on));
    }
    if (!selected.contains("audit")
        && environment.getProperty("yinxin.audit.remote.url", "").isBlank()) {
      throw new IllegalStateException(
          "yinxin.modules="
              + value
              + " leaves out audit, so this node must append its evidence to the node that hosts"
              + " the log: set yinxin.audit.remote.url (and its writer token), or add audit to"
              + " yinxin.modules");
    }
    environment.getPropertySources().addFirst(new MapPropertySource("yinxin.modules", switches));
  }

  /** The comma-separated names, each one of {@link #MODULES}, at least one. */
  static Set<String> parse(String value) {
    Set<String> selected = new LinkedHashSet<>();
    for (String part : value.split(",", -1)) {
      String name = part.strip().toLowerCase(Locale.ROOT);
      if (!MODULES.contains(name)) {
        throw new IllegalStateException(
            "yinxin.modules="
                + value
                + " names "
                + (name.isEmpty() ? "an empty module" : "an unknown module")
                + ": list some of "
                + String.join(", ", MODULES)
                + " separated by commas, or all");
      }
      selected.add(name);
    }
    return selected;
  }
}
