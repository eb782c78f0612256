package io.yinxin.sso.token;

import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationConsent;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationConsentService;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The upstream JDBC consent service with each call in one transaction, so the registered-client
 * lookup its row mapper makes reuses the connection instead of taking a second one from the pool
 * (see {@link TokenIndex}: without it, concurrent requests deadlock the pool).
 */
public final class ConsentsInTransaction implements OAuth2AuthorizationConsentService {
  private final OAuth2AuthorizationConsentService delegate;
  private final TransactionTemplate tx;

  /** {@code inSchema} must be the data source object the delegate's JdbcTemplate uses. */
  public ConsentsInTransaction(OAuth2AuthorizationConsentService delegate, DataSource inSchema) {
    this.delegate = delegate;
    this.tx = new TransactionTemplate(new DataSourceTransactionManager(inSchema));
  }

  @Override
  public void save(OAuth2AuthorizationConsent consent) {
    tx.executeWithoutResult(status -> delegate.save(consent));
  }

  @Override
  public void remove(OAuth2AuthorizationConsent consent) {
    tx.executeWithoutResult(status -> delegate.remove(consent));
  }

  @Override
  public OAuth2AuthorizationConsent findById(String registeredClientId, String principalName) {
    return tx.execute(status -> delegate.findById(registeredClientId, principalName));
  }
}
