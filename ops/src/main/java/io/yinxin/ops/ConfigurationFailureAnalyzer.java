package io.yinxin.ops;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a start that lacks configuration into Spring Boot's failure-analysis block: the modules
 * refuse a missing or wrong setting with an {@link IllegalStateException} whose message names the
 * {@code yinxin.*} property; this analyzer finds it however deep in the bean-creation chain it sits
 * and reports it as {@code Description} (the sentence) and {@code Action} (what to set, and where
 * the README lists it), instead of a chain of {@code UnsatisfiedDependencyException}s. A failure
 * that names no such property is left to Spring Boot's other analyzers.
 */
class ConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<IllegalStateException> {
  private static final Pattern PROPERTY =
      Pattern.compile("yinxin\\.[a-z0-9][a-z0-9.\\[\\]-]*[a-z0-9\\]]");

  @Override
  protected FailureAnalysis analyze(Throwable root, IllegalStateException cause) {
    String message = cause.getMessage();
    if (message == null) {
      return null;
    }
    java.util.Set<String> properties = new java.util.LinkedHashSet<>();
    Matcher m = PROPERTY.matcher(message);
    while (m.find()) {
      properties.add(m.group());
    }
    if (properties.isEmpty()) {
      return null;
    }
    java.util.List<String> env = new java.util.ArrayList<>();
    for (String p : properties) {
      env.add(
          "YINXIN_"
              + p.substring("yinxin.".length())
                  .replaceAll("[.\\[\\]-]+", "_")
                  .replaceAll("_$", "")
                  .toUpperCase(java.util.Locale.ROOT));
    }
    return new FailureAnalysis(
        "Yinxin cannot start: " + message,
        "Set "
            + (properties.size() == 1 ? "" : "what the description asks of ")
            + String.join(", ", properties)
            + " (as --name=value, in a YAML file given with --spring.config.additional-location,"
            + " or as the environment variable "
            + String.join(", ", env)
            + "); the README's \"Configuration\" and \"Running in production\" sections list"
            + " every setting. Then start again.",
        cause);
  }
}
