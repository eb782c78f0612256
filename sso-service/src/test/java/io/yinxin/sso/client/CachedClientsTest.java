package io.yinxin.sso.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.sso.spring.SsoSchema;
import java.time.Duration;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.server.authorization.client.JdbcRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;

/**
 * Two nodes' client caches over one PostgreSQL database: a change made through a node holds there
 * at once and on the other node within its re-check time; between changes clients come from memory;
 * an unknown client ID is looked up every time (not remembered as absent).
 */
class CachedClientsTest {
  private static PostgresDatabase db;
  private static DataSource inSchema;

  @BeforeAll
  static void database() throws Exception {
    db = new PostgresDatabase();
    DriverManagerDataSource ds = new DriverManagerDataSource(db.url(), PostgresDatabase.USER, "");
    inSchema = SsoSchema.migrate(ds).dataSource();
  }

  @AfterAll
  static void close() throws Exception {
    db.close();
  }

  private static CachedClients node(Duration recheck) {
    return new CachedClients(
        new JdbcRegisteredClientRepository(new JdbcTemplate(inSchema)), inSchema, recheck);
  }

  private static RegisteredClient client(String id, String clientId, String secret) {
    return RegisteredClient.withId(id)
        .clientId(clientId)
        .clientSecret(secret)
        .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
        .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
        .scope("read")
        .build();
  }

  @Test
  void aChangeHoldsAtOnceOnItsNodeAndWithinTheRecheckTimeOnTheOther() throws Exception {
    CachedClients a = node(Duration.ofMillis(200));
    CachedClients b = node(Duration.ofMillis(200));
    String id = UUID.randomUUID().toString();
    a.save(client(id, "portal", "{noop}first"));
    assertThat(b.findByClientId("portal").getClientSecret()).isEqualTo("{noop}first");
    assertThat(b.findById(id).getClientId()).isEqualTo("portal");

    long changedAt = System.nanoTime();
    a.save(client(id, "portal", "{noop}second"));
    assertThat(a.findByClientId("portal").getClientSecret()).isEqualTo("{noop}second");
    while (!"{noop}second".equals(b.findByClientId("portal").getClientSecret())) {
      assertThat(System.nanoTime() - changedAt).isLessThan(Duration.ofSeconds(1).toNanos());
      Thread.sleep(5);
    }
    assertThat(b.findById(id).getClientSecret()).isEqualTo("{noop}second");
  }

  @Test
  void betweenChangesClientsComeFromMemoryAndACountedChangeEndsThat() throws Exception {
    CachedClients b = node(Duration.ofMillis(100));
    String id = UUID.randomUUID().toString();
    b.save(client(id, "archive", "{noop}one"));
    assertThat(b.findByClientId("archive").getClientSecret()).isEqualTo("{noop}one");
    // Written behind the cache's back, uncounted: the node keeps serving what it read.
    new JdbcTemplate(inSchema)
        .update(
            "UPDATE sso.oauth2_registered_client SET client_secret = '{noop}two' WHERE id = ?", id);
    Thread.sleep(300);
    assertThat(b.findByClientId("archive").getClientSecret()).isEqualTo("{noop}one");
    // The same write counted (as every write path does, in its transaction): seen after a re-check.
    try (var c = inSchema.getConnection()) {
      CachedClients.countChange(c);
    }
    Thread.sleep(300);
    assertThat(b.findByClientId("archive").getClientSecret()).isEqualTo("{noop}two");
  }

  @Test
  void anUnknownClientIsLookedUpEveryTime() {
    CachedClients b = node(Duration.ofHours(1));
    assertThat(b.findByClientId("later")).isNull();
    new JdbcRegisteredClientRepository(new JdbcTemplate(inSchema))
        .save(client(UUID.randomUUID().toString(), "later", "{noop}x"));
    assertThat(b.findByClientId("later")).isNotNull();
    assertThat(b.findByClientId(null)).isNull();
  }
}
