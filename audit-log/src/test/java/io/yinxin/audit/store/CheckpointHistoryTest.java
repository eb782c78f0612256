package io.yinxin.audit.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.EventType;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The log defends its own history: a checkpoint is signed only over a tree consistent with the
 * previous signed note — not with the unsigned root column beside it, which whoever rewrites the
 * tiles can rewrite too.
 */
class CheckpointHistoryTest {

  /** A fresh database behind a connection pool, as a node has. */
  private static LogStore store() throws Exception {
    com.zaxxer.hikari.HikariDataSource ds = new com.zaxxer.hikari.HikariDataSource();
    ds.setJdbcUrl(new PostgresDatabase().url());
    ds.setUsername(PostgresDatabase.USER);
    ds.setMaximumPoolSize(4);
    return LogStore.open(ds);
  }

  private static void append(LogStore store, String prefix, int n) {
    try (Integrator integrator = new Integrator(store, 500, 1000)) {
      for (int i = 0; i < n; i++) {
        integrator.append(AuditEvent.of(EventType.KEY_USED, "history", prefix + i, Map.of()));
      }
    }
  }

  /** Copies every tile of {@code from} over those of {@code to}: another history, same size. */
  private static void rewriteTiles(LogStore from, LogStore to) throws Exception {
    List<Object[]> rows = new ArrayList<>();
    try (Connection c = from.connection();
        ResultSet rs =
            c.createStatement().executeQuery("SELECT level, idx, width, hashes FROM audit.tiles")) {
      while (rs.next()) {
        rows.add(new Object[] {rs.getInt(1), rs.getLong(2), rs.getInt(3), rs.getBytes(4)});
      }
    }
    try (Connection c = to.connection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE audit.tiles SET width = ?, hashes = ? WHERE level = ? AND idx = ?")) {
      for (Object[] r : rows) {
        ps.setInt(1, (Integer) r[2]);
        ps.setBytes(2, (byte[]) r[3]);
        ps.setInt(3, (Integer) r[0]);
        ps.setLong(4, (Long) r[1]);
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
    }
  }

  private static long checkpoints(LogStore store) throws Exception {
    try (Connection c = store.connection();
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM audit.checkpoints")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static CheckpointPublisher publisher(LogStore store, KeyServices keys, KeyRef key) {
    return new CheckpointPublisher(
        store, new TileCache(store, 1024), keys, key, "yinxin.test/history");
  }

  @Test
  void rewrittenTilesAndRootColumnGetNoNewCheckpointAndTheLogSaysWhy() throws Exception {
    KeyServices keys = KeyServices.of(SoftKeyBackend.open(Files.createTempDirectory("yx-hist-")));
    KeyRef key = KeyRef.soft("history-checkpoint");
    keys.generate(KeyRef.Scheme.SOFT, KeySpec.ED25519, key.label());
    for (boolean alsoTheRootColumn : new boolean[] {true, false}) {
      LogStore honest = store();
      LogStore other = store();
      append(honest, "real-", 700);
      append(other, "forged-", 700);
      assertThat(publisher(honest, keys, key).publish()).isEqualTo(700);
      long before = checkpoints(honest);

      rewriteTiles(other, honest);
      if (alsoTheRootColumn) {
        byte[] forgedRoot;
        try (Connection c = other.connection()) {
          forgedRoot =
              io.yinxin.audit.merkle.Rfc9162.root(
                  io.yinxin.audit.merkle.Tiles.subtreeHashes(
                      new TileCache(other, 16).reader(c), 700),
                  700);
        }
        try (Connection c = honest.connection();
            PreparedStatement ps =
                c.prepareStatement("UPDATE audit.checkpoints SET root = ? WHERE size = 700")) {
          ps.setBytes(1, forgedRoot);
          assertThat(ps.executeUpdate()).isEqualTo(1);
        }
      }
      append(honest, "after-", 10);
      CheckpointPublisher restarted = publisher(honest, keys, key);
      assertThatThrownBy(restarted::publish)
          .as("root column rewritten too: %s", alsoTheRootColumn)
          .isInstanceOf(AuditException.class);
      assertThat(restarted.halted()).isPresent();
      assertThat(checkpoints(honest)).isEqualTo(before);
      // It stays stopped: no later round signs either.
      assertThatThrownBy(restarted::publish).isInstanceOf(AuditException.class);
      assertThat(checkpoints(honest)).isEqualTo(before);
    }
  }
}
