package io.yinxin.sign.spring;

import io.yinxin.hsm.KeyService;
import io.yinxin.sign.http.SignProblems;
import io.yinxin.sign.http.TsaController;
import io.yinxin.sign.tsa.PemTsaCredentials;
import io.yinxin.sign.tsa.TimeStampAuthority;
import io.yinxin.sign.tsa.TsaCredentials;
import io.yinxin.sign.tsa.TsaSerials;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

/** The signing service on this node: schema {@code sign}, the RFC 3161 TSA. */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "io.yinxin.hsm.spring.HsmAutoConfiguration",
      "io.yinxin.audit.spring.AuditAutoConfiguration",
      "io.yinxin.audit.spring.RemoteAuditConfiguration"
    })
@ConditionalOnProperty(prefix = "yinxin.sign", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(SignProperties.class)
@Import(SignProblems.class)
public class SignAutoConfiguration {

  /** Migrates schema {@code sign} (its own Flyway history). */
  @Bean
  SignSchema signSchema(DataSource dataSource) {
    return SignSchema.migrate(dataSource);
  }

  @Bean
  TsaSerials signTsaSerials(DataSource dataSource, SignSchema schema) {
    return new TsaSerials(dataSource);
  }

  /**
   * The TSA key: configured ({@code yinxin.sign.tsa.key} + {@code certificate-chain}), else a
   * {@link TsaCredentials} bean another module provides (ops wires the CA hierarchy's TSA service
   * certificate), else none: then every request is answered {@code systemFailure}.
   */
  @Bean
  TimeStampAuthority signTsa(
      SignProperties p,
      KeyService keys,
      TsaSerials serials,
      ObjectProvider<TsaCredentials> provided) {
    SignProperties.Tsa t = p.tsa();
    TsaCredentials credentials;
    if (!t.key().isBlank()) {
      if (t.certificateChain().isBlank()) {
        throw new IllegalStateException(
            "yinxin.sign.tsa.key needs yinxin.sign.tsa.certificate-chain");
      }
      credentials = new PemTsaCredentials(keys, t.key(), Path.of(t.certificateChain()));
    } else {
      TsaCredentials other = provided.getIfAvailable();
      credentials = other != null ? other : Optional::empty;
    }
    return new TimeStampAuthority(
        keys, credentials, serials, t.policy(), t.accuracy(), Clock.systemUTC());
  }

  @Bean
  @ConditionalOnProperty(
      prefix = "yinxin.sign.tsa",
      name = "enabled",
      havingValue = "true",
      matchIfMissing = true)
  TsaController signTsaController(TimeStampAuthority tsa, SignProperties p) {
    return new TsaController(tsa, p.tsa().maxRequestBytes());
  }
}
