package io.yinxin.hsm.spring;

import io.yinxin.hsm.KeyBackend;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeyUseListener;
import io.yinxin.hsm.Secret;
import io.yinxin.hsm.pkcs11.Pkcs11KeyBackend;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.hsm.vault.VaultTransitKeyBackend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.env.Profiles;

/** Builds the node's {@link KeyServices} from {@code yinxin.keys.*}. */
@AutoConfiguration
@EnableConfigurationProperties(KeysProperties.class)
public class HsmAutoConfiguration {

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public KeyServices keyServices(
      KeysProperties props, Environment env, ObjectProvider<KeyUseListener> listeners) {
    List<KeyBackend> backends = new ArrayList<>();
    if (props.soft().enabled()) {
      if (env.acceptsProfiles(Profiles.of("prod")) && !props.soft().allowInProduction()) {
        throw new IllegalStateException(
            "the software key backend is for development only: under the prod profile configure"
                + " yinxin.keys.pkcs11 or yinxin.keys.vault and set yinxin.keys.soft.enabled=false"
                + " (or, knowingly, yinxin.keys.soft.allow-in-production=true)");
      }
      String dir = props.soft().directory();
      Path path =
          dir.isBlank()
              ? Path.of(env.getProperty("yinxin.data-dir", "./data"), "keys")
              : Path.of(dir);
      backends.add(SoftKeyBackend.open(path));
    }
    KeysProperties.Pkcs11 p11 = props.pkcs11();
    if (!p11.library().isBlank()) {
      Secret pin =
          p11.pinFile().isBlank()
              ? Secret.fromEnv(p11.pinEnv())
              : Secret.fromFile(Path.of(p11.pinFile()));
      backends.add(
          Pkcs11KeyBackend.open(Path.of(p11.library()), p11.token(), pin, p11.maxSessions()));
      pin.destroy();
    }
    KeysProperties.Vault v = props.vault();
    if (!v.address().isBlank()) {
      Secret token =
          v.tokenFile().isBlank()
              ? Secret.fromEnv(v.tokenEnv())
              : Secret.fromFile(Path.of(v.tokenFile()));
      backends.add(VaultTransitKeyBackend.open(v.address(), token, v.mount()));
      token.destroy();
    }
    if (backends.isEmpty()) {
      throw new IllegalStateException(
          "no key backend is configured: set yinxin.keys.pkcs11.library or yinxin.keys.vault.address"
              + " (or yinxin.keys.soft.enabled=true for development)");
    }
    return new KeyServices(backends, listeners.orderedStream().toList());
  }

  /** Reports each key backend in {@code /actuator/health} as component {@code keys}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
  static class HealthConfiguration {
    @Bean
    KeysHealthIndicator keysHealthIndicator(KeyServices keys) {
      return new KeysHealthIndicator(keys);
    }
  }

  /** {@code yinxin_keys_backend_up} per backend, when Micrometer is present (it is in a node). */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "io.micrometer.core.instrument.binder.MeterBinder")
  static class MetricsConfiguration {
    @Bean
    KeysMetrics keysMetrics(KeyServices keys) {
      return new KeysMetrics(keys);
    }
  }
}
