package io.yinxin.sign.csc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.sign.SignException;
import io.yinxin.sign.spring.SignSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * SADs on PostgreSQL shared by two nodes: one node issues, the other spends; each use is spent once
 * however many requests race for it; expiry is the database's time, not a node's.
 */
class SignatureActivationsTest {
  static PGSimpleDataSource ds;
  static final String SEAL = "seal-0123456789abcdef0123";

  @BeforeAll
  static void setUp() throws Exception {
    ds = new PGSimpleDataSource();
    ds.setURL(new PostgresDatabase().url());
    ds.setUser(PostgresDatabase.USER);
    SignSchema.migrate(ds);
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO sign.seals (id, name, sub_line, key_ref, algorithm, chain_pem, status,"
                    + " created_at) VALUES (?, 'n', '', 'soft:x', 'ECDSA_SHA256', '', 'ACTIVE',"
                    + " CURRENT_TIMESTAMP)")) {
      ps.setString(1, SEAL);
      ps.executeUpdate();
    }
  }

  private static byte[] hash(int i) {
    byte[] b = new byte[32];
    b[0] = (byte) i;
    return b;
  }

  @Test
  void aSadIssuedOnOneNodeIsSpentOnAnotherUseByUseAndNoFurther() {
    SignatureActivations nodeA = new SignatureActivations(ds, Duration.ofMinutes(5));
    SignatureActivations nodeB = new SignatureActivations(ds, Duration.ofMinutes(5));
    String sad = nodeA.issue(SEAL, "erp", List.of(), 3).sad();
    nodeB.spend(sad, SEAL, "erp", List.of(hash(1), hash(2)));
    assertThatThrownBy(() -> nodeB.spend(sad, SEAL, "erp", List.of(hash(3), hash(4))))
        .isInstanceOf(SignException.class)
        .hasMessageContaining("SAD invalid or expired");
    nodeA.spend(sad, SEAL, "erp", List.of(hash(5)));
    assertThatThrownBy(() -> nodeA.spend(sad, SEAL, "erp", List.of(hash(6))))
        .isInstanceOf(SignException.class);
  }

  @Test
  void aSadBoundToHashesSignsOnlyThoseAndOnlyForItsCallerAndSeal() {
    SignatureActivations a = new SignatureActivations(ds, Duration.ofMinutes(5));
    String sad = a.issue(SEAL, "erp", List.of(hash(7), hash(8)), 2).sad();
    assertThatThrownBy(() -> a.spend(sad, SEAL, "erp", List.of(hash(9))))
        .isInstanceOf(SignException.class);
    assertThatThrownBy(() -> a.spend(sad, SEAL, "another-caller", List.of(hash(7))))
        .isInstanceOf(SignException.class);
    assertThatThrownBy(() -> a.spend(sad, "seal-ffffffffffffffffffff", "erp", List.of(hash(7))))
        .isInstanceOf(SignException.class);
    a.spend(sad, SEAL, "erp", List.of(hash(8), hash(7)));
  }

  @Test
  void anExpiredSadIsRefusedByTheDatabasesClock() {
    SignatureActivations a = new SignatureActivations(ds, Duration.ZERO);
    String sad = a.issue(SEAL, "erp", List.of(), 1).sad();
    assertThatThrownBy(() -> a.spend(sad, SEAL, "erp", List.of(hash(1))))
        .isInstanceOf(SignException.class)
        .hasMessageContaining("expired");
  }

  @Test
  void sixteenRequestsOnTwoNodesRacingForFiveUsesSpendExactlyFive() throws Exception {
    SignatureActivations nodeA = new SignatureActivations(ds, Duration.ofMinutes(5));
    SignatureActivations nodeB = new SignatureActivations(ds, Duration.ofMinutes(5));
    String sad = nodeA.issue(SEAL, "erp", List.of(), 5).sad();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> f = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        SignatureActivations node = i % 2 == 0 ? nodeA : nodeB;
        int n = i;
        f.add(
            pool.submit(
                () -> {
                  try {
                    node.spend(sad, SEAL, "erp", List.of(hash(n)));
                    return true;
                  } catch (SignException e) {
                    return false;
                  }
                }));
      }
      int spent = 0;
      for (Future<Boolean> r : f) {
        spent += r.get() ? 1 : 0;
      }
      assertThat(spent).isEqualTo(5);
    } finally {
      pool.shutdown();
    }
  }
}
