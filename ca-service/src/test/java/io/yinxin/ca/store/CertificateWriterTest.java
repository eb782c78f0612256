package io.yinxin.ca.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.ca.CaException;
import io.yinxin.ca.testing.TestNodes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CertificateWriterTest {
  static PostgresDatabase db;
  static CaStore store;

  @BeforeAll
  static void setUp() {
    db = TestNodes.database();
    javax.sql.DataSource ds = TestNodes.dataSource(db);
    store = CaStore.open(ds);
  }

  @AfterAll
  static void tearDown() {
    db.close();
  }

  @Test
  void concurrentInsertsAreAllStoredAndEachReturnsOnlyOnceCommitted() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try (CertificateWriter writer = new CertificateWriter(store, 32)) {
      List<Future<String>> done = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        String serial = "a" + Integer.toHexString(i);
        done.add(
            pool.submit(
                () -> {
                  writer.insert(row(serial));
                  // committed: another connection sees it at once
                  assertThat(store.certificates().certificate("w-ca", serial)).isPresent();
                  return serial;
                }));
      }
      for (Future<String> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.certificates().certificate("w-ca", "a18f")).isPresent();
  }

  @Test
  void aDuplicateInTheSameBatchFailsAloneAsAConflictAndTheRestOfTheBatchIsStored()
      throws Exception {
    try (CertificateWriter first = new CertificateWriter(store, 8)) {
      first.insert(row("dup"));
    }
    // The writer's thread starts only once all 41 rows wait, so they are drained as one batch.
    CertificateWriter writer = new CertificateWriter(store, 64, false);
    ExecutorService pool = Executors.newFixedThreadPool(41);
    try {
      List<Future<?>> others = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        String serial = "b" + i;
        others.add(pool.submit(() -> writer.insert(row(serial))));
      }
      Future<?> dup = pool.submit(() -> writer.insert(row("dup")));
      for (int i = 20; i < 40; i++) {
        String serial = "b" + i;
        others.add(pool.submit(() -> writer.insert(row(serial))));
      }
      while (writer.queued() < 41) {
        Thread.onSpinWait();
      }
      writer.start();
      for (Future<?> f : others) {
        f.get();
      }
      assertThatThrownBy(dup::get)
          .hasCauseInstanceOf(CaException.class)
          .cause()
          .satisfies(
              e -> assertThat(((CaException) e).code()).isEqualTo(CaException.Code.CONFLICT));
    } finally {
      writer.close();
      pool.shutdownNow();
    }
    for (int i = 0; i < 40; i++) {
      assertThat(store.certificates().certificate("w-ca", "b" + i)).as("b" + i).isPresent();
    }
  }

  @Test
  void aClosedWriterRefusesNewRows() {
    CertificateWriter writer = new CertificateWriter(store, 8);
    writer.close();
    assertThatThrownBy(() -> writer.insert(row("late")))
        .isInstanceOfSatisfying(
            CaException.class, e -> assertThat(e.code()).isEqualTo(CaException.Code.UNAVAILABLE));
    assertThat(store.certificates().certificate("w-ca", "late")).isEmpty();
  }

  private static CertificateRecord row(String serial) {
    return io.yinxin.ca.testing.TestNodes.certificateRow("w-ca", serial, new byte[32]);
  }
}
