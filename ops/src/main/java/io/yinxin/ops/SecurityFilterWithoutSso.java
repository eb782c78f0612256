package io.yinxin.ops;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.web.servlet.DelegatingFilterProxyRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * On a node without the OpenID Provider ({@code yinxin.modules} without {@code sso}), Spring
 * Security's filter chain is still a bean (the library is on the class path) but guards nothing of
 * ours: sso-service registers it for its own paths only, and without that registration Boot would
 * put its default chain (every request authenticated) in front of the CA, the log and the signing
 * API. A disabled registration by the same bean name keeps it off every path; the modules check
 * their own tokens.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(prefix = "yinxin.sso", name = "enabled", havingValue = "false")
class SecurityFilterWithoutSso {
  @Bean
  DelegatingFilterProxyRegistrationBean securityFilterOffWithoutSso() {
    DelegatingFilterProxyRegistrationBean registration =
        new DelegatingFilterProxyRegistrationBean("springSecurityFilterChain");
    registration.setName("securityFilterOffWithoutSso");
    registration.setEnabled(false);
    return registration;
  }
}
