package io.yinxin.ops.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shipped alert rules pass Prometheus's own checker ({@code promtool check rules}) and their
 * unit tests ({@code promtool test rules}), and every rule has a test in which it fires.
 */
class AlertRulesTest {
  static final Path RULES = Monitoring.DEPLOY.resolve("prometheus/yinxin-alerts.yml");
  static final Path TESTS = Monitoring.DEPLOY.resolve("prometheus/tests/yinxin-alerts.test.yml");

  @Test
  void promtoolAcceptsTheRules() throws Exception {
    Monitoring.Result r = Monitoring.run(List.of("promtool", "check", "rules", RULES.toString()));
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).contains("SUCCESS: " + alertNames().size() + " rules found");
  }

  @Test
  void theExampleConfigurationsPassPrometheusAndAlertmanagerChecks() throws Exception {
    Path dir = RULES.getParent();
    Monitoring.Result prometheus =
        Monitoring.run(
            List.of(
                "promtool",
                "check",
                "config",
                "--syntax-only",
                dir.resolve("prometheus.yml").toString()));
    assertThat(prometheus.exit()).as(prometheus.output()).isZero();
    Monitoring.Result alertmanager =
        Monitoring.run(
            List.of("amtool", "check-config", dir.resolve("alertmanager.yml").toString()));
    assertThat(alertmanager.exit()).as(alertmanager.output()).isZero();
  }

  @Test
  void everyRulePassesItsUnitTests() throws Exception {
    Monitoring.Result r =
        Monitoring.run(
            List.of("promtool", "test", "rules", TESTS.getFileName().toString()),
            TESTS.getParent());
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).contains("SUCCESS");
  }

  @Test
  void everyRuleHasATestWhereItFires() throws Exception {
    String tests = Files.readString(TESTS);
    Set<String> fired = new LinkedHashSet<>();
    // An alert_rule_test entry whose exp_alerts list is not empty.
    Matcher m =
        Pattern.compile("alertname: (\\w+)\\n\\s+exp_alerts:\\n\\s+- exp_labels").matcher(tests);
    while (m.find()) {
      fired.add(m.group(1));
    }
    assertThat(fired).containsAll(alertNames());
  }

  static Set<String> alertNames() throws Exception {
    Set<String> names = new LinkedHashSet<>();
    Matcher m = Pattern.compile("(?m)^\\s+- alert: (\\w+)$").matcher(Files.readString(RULES));
    while (m.find()) {
      names.add(m.group(1));
    }
    assertThat(names).hasSizeGreaterThan(10);
    return names;
  }
}
