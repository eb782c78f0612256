package io.yinxin.ops;

import io.yinxin.sso.web.ErrorPage;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.webmvc.error.ErrorAttributes;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * On a node without the OpenID Provider ({@code yinxin.modules} without {@code sso}), browsers get
 * the same bilingual error page as on a node with it (sso-service registers it itself), not
 * Spring's English "Whitelabel Error Page": a person may open a CRL or a seal's address in a
 * browser.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(prefix = "yinxin.sso", name = "enabled", havingValue = "false")
class ErrorPageWithoutSso {
  @Bean
  ErrorPage bilingualErrorPage(ErrorAttributes errors) {
    return new ErrorPage(errors);
  }
}
