package io.yinxin.ops;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.observation.SecurityObservationSettings;

/**
 * With Spring Security's observations switched off ({@code
 * management.observations.enable.spring.security=false}, this application's default), Spring
 * Security is told so too, so that it does not wrap every filter, authentication manager and
 * authorization manager in an observation that the predicate then discards: the wrappers alone cost
 * each request work on every filter of the chain. Set the property to {@code true} and both the
 * observations and their wrappers are back.
 */
@Configuration(proxyBeanMethods = false)
class SecurityObservations {

  @Bean
  @ConditionalOnProperty(
      name = "management.observations.enable.spring.security",
      havingValue = "false")
  SecurityObservationSettings noSpringSecurityObservations() {
    return SecurityObservationSettings.noObservations();
  }
}
