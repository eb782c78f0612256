package io.yinxin.sso.spring;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.session.jdbc.JdbcIndexedSessionRepository;
import org.springframework.session.web.http.CookieHttpSessionIdResolver;
import org.springframework.session.web.http.DefaultCookieSerializer;
import org.springframework.session.web.http.SessionRepositoryFilter;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Sign-in sessions in the database ({@code sso.spring_session}, Spring Session JDBC), so every SSO
 * node behind a load balancer sees the same session: a sign-in started on one node (its CSRF token,
 * the pending second factor, the saved authorization request) finishes on another. The cookie is
 * {@code YINXIN_SSO} (HttpOnly, SameSite=Lax, Secure over https); sessions end after 30 idle
 * minutes and are deleted every minute once expired.
 */
public final class SsoSessions implements AutoCloseable {
  public static final String COOKIE = "YINXIN_SSO";

  private final JdbcIndexedSessionRepository repository;
  private final ScheduledExecutorService cleanup;

  SsoSessions(DataSource dataSource, Duration idle) {
    repository =
        new JdbcIndexedSessionRepository(
            new JdbcTemplate(dataSource),
            new TransactionTemplate(new DataSourceTransactionManager(dataSource)));
    repository.setTableName("sso.spring_session");
    repository.setDefaultMaxInactiveInterval(idle);
    cleanup =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sso-session-cleanup");
              t.setDaemon(true);
              return t;
            });
    cleanup.scheduleWithFixedDelay(this::deleteExpired, 1, 1, TimeUnit.MINUTES);
  }

  private void deleteExpired() {
    try {
      repository.cleanUpExpiredSessions();
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(SsoSessions.class)
          .warn("event=sso_session_cleanup_failed error={}", e.getClass().getSimpleName());
    }
  }

  /** The servlet filter that puts requests' sessions in the database. */
  SessionRepositoryFilter<?> filter() {
    SessionRepositoryFilter<?> filter = new SessionRepositoryFilter<>(repository);
    DefaultCookieSerializer cookie = new DefaultCookieSerializer();
    cookie.setCookieName(COOKIE);
    cookie.setUseHttpOnlyCookie(true);
    cookie.setSameSite("Lax");
    CookieHttpSessionIdResolver resolver = new CookieHttpSessionIdResolver();
    resolver.setCookieSerializer(cookie);
    filter.setHttpSessionIdResolver(resolver);
    return filter;
  }

  /** A person's session as their account page lists it. */
  public record SessionInfo(String id, java.time.Instant created, java.time.Instant lastUsed) {}

  /** The live sessions signed in as {@code username}, newest use first. */
  public java.util.List<SessionInfo> of(String username) {
    org.springframework.session.FindByIndexNameSessionRepository<
            ? extends org.springframework.session.Session>
        byName = repository;
    java.util.List<org.springframework.session.Session> found =
        new java.util.ArrayList<>(byName.findByPrincipalName(username).values());
    return found.stream()
        .filter(x -> !x.isExpired())
        .map(x -> new SessionInfo(x.getId(), x.getCreationTime(), x.getLastAccessedTime()))
        .sorted(java.util.Comparator.comparing(SessionInfo::lastUsed).reversed())
        .toList();
  }

  /** Ends every session of {@code username} but {@code keep}; how many ended. */
  public int endOthers(String username, String keep) {
    int n = 0;
    org.springframework.session.FindByIndexNameSessionRepository<?> byName = repository;
    for (String id : byName.findByPrincipalName(username).keySet()) {
      if (!id.equals(keep)) {
        repository.deleteById(id);
        n++;
      }
    }
    return n;
  }

  @Override
  public void close() {
    cleanup.shutdownNow();
  }
}
