package io.yinxin.ca.acme;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.testing.TestNodes;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * An order or challenge a crashed process left 'processing' is put back; live work is not. Orders
 * that expired without a certificate are deleted with their authorizations; the others stay.
 */
class AcmeRecoveryTest {

  @Test
  void ordersAndChallengesStuckInProcessingAreRecoveredButRecentOnesAreLeftAlone()
      throws Exception {
    DataSource ds = TestNodes.dataSource(TestNodes.database());
    CaStore ca = CaStore.open(ds);
    AcmeStore store = new AcmeStore(ca);
    Instant expires = Instant.now().plus(Duration.ofDays(1));
    for (String id : List.of("stuck", "live")) {
      order(store, id, "ready", expires);
      assertThat(store.transitionOrder(id, "ready", "processing", null)).isTrue();
      assertThat(store.startChallenge("az-" + id)).isTrue();
    }
    // The "stuck" ones started an hour ago: their process is long gone.
    OffsetDateTime hourAgo = OffsetDateTime.now(ZoneOffset.UTC).minusHours(1);
    try (Connection c = ds.getConnection()) {
      for (String sql :
          List.of(
              "UPDATE ca.acme_orders SET processing_since = ? WHERE id = 'stuck'",
              "UPDATE ca.acme_authzs SET processing_since = ? WHERE id = 'az-stuck'")) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setObject(1, hourAgo);
          assertThat(ps.executeUpdate()).isEqualTo(1);
        }
      }
    }
    assertThat(store.recoverInterrupted(Instant.now().minus(Duration.ofMinutes(5)))).isEqualTo(2);
    assertThat(store.order("stuck").orElseThrow().status()).isEqualTo("ready");
    assertThat(store.authz("az-stuck").orElseThrow().challengeStatus()).isEqualTo("pending");
    assertThat(store.order("live").orElseThrow().status()).isEqualTo("processing");
    assertThat(store.authz("az-live").orElseThrow().challengeStatus()).isEqualTo("processing");
    // Recovered work can go on as before.
    assertThat(store.transitionOrder("stuck", "ready", "processing", null)).isTrue();
    assertThat(store.startChallenge("az-stuck")).isTrue();
  }

  private static void order(AcmeStore store, String id, String status, Instant expires) {
    store.insertOrder(
        new AcmeStore.Order(
            id,
            "acct",
            status,
            List.of(id + ".gov.localhost"),
            expires,
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty()),
        List.of(
            new AcmeStore.Authz(
                "az-" + id,
                id,
                "acct",
                id + ".gov.localhost",
                "pending",
                "tok-" + id,
                "pending",
                Optional.empty(),
                Optional.empty(),
                expires)),
        Optional.empty());
  }

  @Test
  void ordersThatExpiredWithoutACertificateAreDeletedWithTheirAuthorizations() throws Exception {
    DataSource ds = TestNodes.dataSource(TestNodes.database());
    AcmeStore store = new AcmeStore(CaStore.open(ds));
    Instant now = Instant.now();
    Instant past = now.minus(Duration.ofDays(2));
    for (String status : List.of("pending", "ready", "invalid", "processing", "valid")) {
      order(store, "old-" + status, status, past);
    }
    order(store, "live", "pending", now.plus(Duration.ofDays(7)));
    order(store, "just-expired", "pending", now.minus(Duration.ofHours(1)));

    assertThat(store.purgeExpiredOrders(now.minus(Duration.ofDays(1)))).isEqualTo(3);
    for (String gone : List.of("old-pending", "old-ready", "old-invalid")) {
      assertThat(store.order(gone)).as(gone).isEmpty();
      assertThat(store.authz("az-" + gone)).as(gone).isEmpty();
    }
    for (String kept : List.of("old-processing", "old-valid", "live", "just-expired")) {
      assertThat(store.order(kept)).as(kept).isPresent();
      assertThat(store.authz("az-" + kept)).as(kept).isPresent();
    }
    assertThat(store.purgeExpiredOrders(now.minus(Duration.ofDays(1)))).isZero();
  }
}
