package io.yinxin.audit.spring;

import io.yinxin.audit.AuditLog;
import io.yinxin.audit.client.HttpAuditLog;
import io.yinxin.audit.client.OutboxRelay;
import io.yinxin.hsm.DataKeySpec;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.Secret;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * A node that does not host the log ({@code yinxin.audit.enabled=false}) appends to the node that
 * does: {@code yinxin.audit.remote.url}, with the writer token read from {@code
 * yinxin.audit.remote.token-env} (default {@code YINXIN_AUDIT_TOKEN}) or {@code
 * yinxin.audit.remote.token-file}. Key uses are recorded there too. Modules that change state
 * record their evidence through {@link OutboxRelay}: into this node's database with the change,
 * relayed to the log after commit.
 */
@AutoConfiguration(
    afterName = "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration")
@ConditionalOnProperty(prefix = "yinxin.audit", name = "enabled", havingValue = "false")
public class RemoteAuditConfiguration {

  @Bean
  @ConditionalOnProperty(prefix = "yinxin.audit.remote", name = "url")
  HttpAuditLog remoteAuditLog(Environment env) {
    String file = env.getProperty("yinxin.audit.remote.token-file", "");
    Secret token =
        file.isBlank()
            ? Secret.fromEnv(env.getProperty("yinxin.audit.remote.token-env", "YINXIN_AUDIT_TOKEN"))
            : Secret.fromFile(Path.of(file));
    char[] value = token.value();
    try {
      return new HttpAuditLog(env.getRequiredProperty("yinxin.audit.remote.url"), value);
    } finally {
      java.util.Arrays.fill(value, '\0');
      token.destroy();
    }
  }

  /**
   * The transactional form for this node's modules: their events go into {@code audit_relay.outbox}
   * in this node's database, in their own transactions, and are relayed. Rows are encrypted at rest
   * ({@code yinxin.audit.encrypt-events}, default on) under an event key wrapped by {@code
   * yinxin.audit.data-key} (default {@code audit-relay-events} of the backend {@code
   * yinxin.audit.checkpoint-key} names, as on the log's node; created as {@code
   * yinxin.audit.data-key-type}, default {@code AES_256_GCM}, when missing).
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnProperty(prefix = "yinxin.audit.remote", name = "url")
  @org.springframework.boot.autoconfigure.condition.ConditionalOnBean(DataSource.class)
  OutboxRelay remoteAuditOutbox(
      DataSource dataSource, HttpAuditLog remote, KeyServices keys, Environment env) {
    java.time.Duration poll = java.time.Duration.ofSeconds(1);
    if (!env.getProperty("yinxin.audit.encrypt-events", Boolean.class, true)) {
      return OutboxRelay.open(dataSource, remote, poll);
    }
    KeyRef dataKey =
        AuditAutoConfiguration.requireBackend(
            keys,
            AuditProperties.dataKey(
                env.getProperty("yinxin.audit.data-key", ""),
                env.getProperty("yinxin.audit.checkpoint-key", "soft:audit-checkpoint"),
                "audit-relay-events"),
            "data-key");
    DataKeySpec spec =
        env.getProperty("yinxin.audit.data-key-type", DataKeySpec.class, DataKeySpec.AES_256_GCM);
    return OutboxRelay.open(dataSource, remote, poll, keys, dataKey, spec);
  }

  @Bean
  @ConditionalOnProperty(prefix = "yinxin.audit.remote", name = "url")
  KeyUseAuditListener remoteKeyUseAuditListener(ObjectProvider<AuditLog> log) {
    // This node does not publish checkpoints: no key of its own is exempt.
    return new KeyUseAuditListener(log::getObject, java.util.Optional.empty());
  }
}
