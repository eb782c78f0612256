package io.yinxin.audit.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.store.CheckpointPublisher;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * No purpose string skips the record: the root CA key signing with any purpose, the checkpoint's
 * and the old "recorded by caller" suffix included, leaves a KEY_USED event. Only the configured
 * checkpoint key and the typed {@code signRecordedByCaller} / {@code signDigestRecordedByCaller} /
 * {@code encryptRecordedByCaller} / {@code decryptRecordedByCaller} API are exempt.
 */
class KeyUseAuditListenerTest {

  @Test
  void anyPurposeIsRecordedAndOnlyTheCheckpointKeyAndTheTypedCallerApiAreExempt() throws Exception {
    PostgresDatabase db = new PostgresDatabase();
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(db.url());
    ds.setUser(PostgresDatabase.USER);
    LogStore store = LogStore.open(ds);
    KeyRef checkpoint = KeyRef.soft("audit-checkpoint");
    KeyRef root = KeyRef.soft("ca-root");
    try (Integrator integrator = new Integrator(store, 100, 1000);
        KeyServices keys =
            new KeyServices(
                List.of(SoftKeyBackend.open(Files.createTempDirectory("yinxin-keyuse-"))),
                List.of(
                    new KeyUseAuditListener(() -> integrator::append, Optional.of(checkpoint))))) {
      keys.generate(KeyRef.Scheme.SOFT, KeySpec.ED25519, checkpoint.label());
      keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P384, root.label());
      byte[] data = "tbs".getBytes(StandardCharsets.UTF_8);
      for (String purpose :
          List.of(
              "crl:root/0",
              "cert:root/01;recorded-by-caller",
              CheckpointPublisher.PURPOSE,
              "anything at all")) {
        keys.sign(root, SignatureAlgorithm.ECDSA_SHA384, data, purpose);
      }
      assertThat(events(ds, "KEY_USED", root)).isEqualTo(4);

      keys.signRecordedByCaller(root, SignatureAlgorithm.ECDSA_SHA384, data, "cert:root/02");
      assertThat(events(ds, "KEY_USED", root)).isEqualTo(4);

      // A digest signed: recorded, unless through the typed caller API.
      byte[] digest = java.security.MessageDigest.getInstance("SHA-384").digest(data);
      keys.signDigest(root, SignatureAlgorithm.ECDSA_SHA384, digest, "csc:signHash x");
      assertThat(events(ds, "KEY_USED", root)).isEqualTo(5);
      keys.signDigestRecordedByCaller(
          root, SignatureAlgorithm.ECDSA_SHA384, digest, "csc:signHash x");
      assertThat(events(ds, "KEY_USED", root)).isEqualTo(5);

      // A data protection key: encrypting and decrypting recorded, unless through the typed API
      // (the audit log wrapping its event key, recorded in its LOG_STARTED).
      KeyRef dataKey =
          keys.generateDataKey(
              KeyRef.Scheme.SOFT, io.yinxin.hsm.DataKeySpec.AES_256_GCM, "audit-events");
      byte[] context = "ctx".getBytes(StandardCharsets.UTF_8);
      byte[] sealed = keys.encrypt(dataKey, data, context, "anything");
      assertThat(keys.decrypt(dataKey, sealed, context, "anything")).isEqualTo(data);
      assertThat(events(ds, "KEY_USED", dataKey)).isEqualTo(2);
      byte[] wrapped = keys.encryptRecordedByCaller(dataKey, data, context, "audit:event-key");
      assertThat(keys.decryptRecordedByCaller(dataKey, wrapped, context, "audit:event-key"))
          .isEqualTo(data);
      assertThat(events(ds, "KEY_USED", dataKey)).isEqualTo(2);

      keys.sign(checkpoint, SignatureAlgorithm.ED25519, data, "any purpose");
      assertThat(events(ds, "KEY_USED", checkpoint)).isZero();
      // Its creation is recorded like any other key's.
      assertThat(events(ds, "KEY_GENERATED", checkpoint)).isEqualTo(1);
    }
  }

  private static int events(PGSimpleDataSource ds, String type, KeyRef key) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM audit.events WHERE type = ? AND subject = ?")) {
      ps.setString(1, type);
      ps.setString(2, key.toString());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }
}
