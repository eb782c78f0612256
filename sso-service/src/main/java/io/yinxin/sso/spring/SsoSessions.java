package io.yinxin.sso.spring;

import java.time.Duration;
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
 * minutes and are deleted every minute once expired. A session nobody has signed in to yet (the
 * sign-in page's, an authorization request's) ends after {@link #ANONYMOUS_IDLE}: anyone can open
 * one without an account, and each is a row (or a Redis key) until it expires. With {@code
 * yinxin.sso.sessions-redis-url} they live in Redis instead (Spring Session Data Redis), for
 * deployments that keep the database for lasting state only.
 */
public final class SsoSessions implements AutoCloseable {
  public static final String COOKIE = "YINXIN_SSO";

  /** How long a session nobody has signed in to lives without a request. */
  public static final Duration ANONYMOUS_IDLE = Duration.ofMinutes(10);

  /**
   * The repository, with sessions created at {@code anonymous} idle time and given {@code idle}
   * when they are saved signed in (whichever way: password, passkey, certificate, upstream).
   */
  static <S extends org.springframework.session.Session>
      org.springframework.session.FindByIndexNameSessionRepository<S> anonymousIdle(
          org.springframework.session.FindByIndexNameSessionRepository<S> r,
          Duration anonymous,
          Duration idle) {
    return new org.springframework.session.FindByIndexNameSessionRepository<S>() {
      @Override
      public S createSession() {
        S session = r.createSession();
        session.setMaxInactiveInterval(anonymous);
        return session;
      }

      @Override
      public void save(S session) {
        if (session.getAttribute(
                    org.springframework.security.web.context.HttpSessionSecurityContextRepository
                        .SPRING_SECURITY_CONTEXT_KEY)
                != null
            && !idle.equals(session.getMaxInactiveInterval())) {
          session.setMaxInactiveInterval(idle);
        }
        r.save(session);
      }

      @Override
      public S findById(String id) {
        return r.findById(id);
      }

      @Override
      public void deleteById(String id) {
        r.deleteById(id);
      }

      @Override
      public java.util.Map<String, S> findByIndexNameAndIndexValue(
          String indexName, String indexValue) {
        return r.findByIndexNameAndIndexValue(indexName, indexValue);
      }
    };
  }

  private final org.springframework.session.FindByIndexNameSessionRepository<
          ? extends org.springframework.session.Session>
      repository;
  private final Runnable deleteExpired;
  private final AutoCloseable connection;
  private final ScheduledExecutorService cleanup;

  /** Counts signed-in sessions in Redis; empty for database sessions (the metrics query those). */
  private final java.util.Optional<java.util.function.LongSupplier> redisSignedIn;

  /** Sessions in the database (the default). */
  SsoSessions(DataSource dataSource, Duration idle) {
    JdbcIndexedSessionRepository jdbc =
        new JdbcIndexedSessionRepository(
            new JdbcTemplate(dataSource),
            new TransactionTemplate(new DataSourceTransactionManager(dataSource)));
    jdbc.setTableName("sso.spring_session");
    jdbc.setDefaultMaxInactiveInterval(idle);
    this.repository = anonymousIdle(jdbc, ANONYMOUS_IDLE, idle);
    this.deleteExpired = jdbc::cleanUpExpiredSessions;
    this.connection = () -> {};
    this.redisSignedIn = java.util.Optional.empty();
    this.cleanup = scheduler();
  }

  /**
   * Sessions in Redis ({@code redis://[:password@]host:port[/db]}), under keys {@code
   * yinxin:sso:sessions:*}, for several SSO nodes that share a Redis rather than the database.
   */
  SsoSessions(java.net.URI redis, Duration idle) {
    var config =
        new org.springframework.data.redis.connection.RedisStandaloneConfiguration(
            redis.getHost(), redis.getPort() < 0 ? 6379 : redis.getPort());
    if (redis.getUserInfo() != null) {
      String info = redis.getUserInfo();
      config.setPassword(info.substring(info.indexOf(':') + 1));
    }
    String path = redis.getPath() == null ? "" : redis.getPath().replace("/", "");
    if (!path.isEmpty()) {
      config.setDatabase(Integer.parseInt(path));
    }
    var factory =
        new org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory(config);
    factory.afterPropertiesSet();
    factory.start();
    var template = new org.springframework.data.redis.core.RedisTemplate<String, Object>();
    template.setConnectionFactory(factory);
    template.setKeySerializer(
        new org.springframework.data.redis.serializer.StringRedisSerializer());
    template.setHashKeySerializer(
        new org.springframework.data.redis.serializer.StringRedisSerializer());
    template.afterPropertiesSet();
    var r = new org.springframework.session.data.redis.RedisIndexedSessionRepository(template);
    r.setRedisKeyNamespace("yinxin:sso:sessions");
    r.setDefaultMaxInactiveInterval(idle);
    this.repository = anonymousIdle(r, ANONYMOUS_IDLE, idle);
    this.deleteExpired = r::cleanUpExpiredSessions;
    this.connection = factory::destroy;
    this.redisSignedIn = java.util.Optional.of(() -> signedIn(template));
    this.cleanup = scheduler();
  }

  /** Most session ids one count looks at: beyond that the gauge says "at least". */
  static final int MAX_COUNTED = 200_000;

  /**
   * Signed-in sessions in Redis: the ids in the principal-name index sets whose session still
   * exists (the index may keep an expired id until the next cleanup), found by SCAN, never KEYS.
   */
  private static long signedIn(
      org.springframework.data.redis.core.RedisTemplate<String, Object> template) {
    String prefix = "yinxin:sso:sessions:";
    java.util.Set<String> ids = new java.util.HashSet<>();
    var options =
        org.springframework.data.redis.core.ScanOptions.scanOptions()
            .match(
                prefix
                    + "index:"
                    + org.springframework.session.FindByIndexNameSessionRepository
                        .PRINCIPAL_NAME_INDEX_NAME
                    + ":*")
            .count(1000)
            .build();
    try (var keys = template.scan(options)) {
      while (keys.hasNext() && ids.size() < MAX_COUNTED) {
        var members = template.opsForSet().members(keys.next());
        if (members != null) {
          members.forEach(m -> ids.add(String.valueOf(m)));
        }
      }
    }
    long n = 0;
    for (String id : ids) {
      if (Boolean.TRUE.equals(template.hasKey(prefix + "sessions:" + id))) {
        n++;
      }
    }
    return n;
  }

  /** Signed-in sessions now, when they are in Redis; empty with database sessions. */
  public java.util.OptionalLong signedInInRedis() {
    return redisSignedIn
        .map(s -> java.util.OptionalLong.of(s.getAsLong()))
        .orElse(java.util.OptionalLong.empty());
  }

  private ScheduledExecutorService scheduler() {
    ScheduledExecutorService cleanup = io.yinxin.hsm.Schedulers.daemon("sso-session-cleanup");
    cleanup.scheduleWithFixedDelay(this::deleteExpired, 1, 1, TimeUnit.MINUTES);
    return cleanup;
  }

  private void deleteExpired() {
    try {
      deleteExpired.run();
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(SsoSessions.class)
          .warn("event=sso_session_cleanup_failed error={}", e.getClass().getSimpleName());
    }
  }

  /**
   * The servlet filter that puts requests' sessions in the database (or Redis), with {@code budget}
   * asked before each new one.
   */
  jakarta.servlet.Filter filter(NewSessionBudget budget) {
    SessionRepositoryFilter<?> sessions = filter();
    return (request, response, chain) ->
        sessions.doFilter(
            request,
            response,
            (in, out) ->
                budget.filter(
                    (jakarta.servlet.http.HttpServletRequest) in,
                    (jakarta.servlet.http.HttpServletResponse) out,
                    chain));
  }

  private SessionRepositoryFilter<?> filter() {
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
    java.util.List<org.springframework.session.Session> found =
        new java.util.ArrayList<>(repository.findByPrincipalName(username).values());
    return found.stream()
        .filter(x -> !x.isExpired())
        .map(x -> new SessionInfo(x.getId(), x.getCreationTime(), x.getLastAccessedTime()))
        .sorted(java.util.Comparator.comparing(SessionInfo::lastUsed).reversed())
        .toList();
  }

  /** Ends every session of {@code username} but {@code keep}; how many ended. */
  public int endOthers(String username, String keep) {
    int n = 0;
    for (String id : repository.findByPrincipalName(username).keySet()) {
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
    try {
      connection.close();
    } catch (Exception e) {
      // Closing a connection that is gone already.
    }
  }
}
