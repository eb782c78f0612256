package io.yinxin.audit.spring;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.audit.Receipt;
import io.yinxin.audit.http.AuditController;
import io.yinxin.audit.note.NoteVerifierKey;
import io.yinxin.audit.store.AuditMetrics;
import io.yinxin.audit.store.CheckpointPublisher;
import io.yinxin.audit.store.Cosignatures;
import io.yinxin.audit.store.EvidenceBundles;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogReader;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.TileCache;
import io.yinxin.audit.timestamp.CheckpointTimestamper;
import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;

/**
 * The audit log on this node: schema, integrator, checkpoint publisher (and time-stamper), HTTP
 * API.
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "io.yinxin.hsm.spring.HsmAutoConfiguration"
    })
@ConditionalOnProperty(prefix = "yinxin.audit", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(AuditProperties.class)
@Import(AuditController.class)
public class AuditAutoConfiguration {
  private static final Logger log = LoggerFactory.getLogger(AuditAutoConfiguration.class);

  /**
   * The store; with {@code yinxin.audit.encrypt-events} (the default) private event rows are
   * encrypted, once {@link #auditIntegrator} has loaded the event key.
   */
  @Bean
  LogStore auditLogStore(DataSource dataSource, KeyServices keys, AuditProperties p) {
    return LogStore.open(
        dataSource,
        p.encryptEvents()
            ? io.yinxin.audit.store.EventCipher.underDataKey(keys, dataSource)
            : io.yinxin.audit.store.EventCipher.none());
  }

  @Bean
  TileCache auditTileCache(LogStore store) {
    return new TileCache(store, 16_384);
  }

  /**
   * The integrator, once the event key is loaded or created: an append before that (from any thread
   * but this one) waits for it. The key service's audit listener reaches the integrator through
   * {@link AppendTarget}, not through this bean, so the records of creating the data key are
   * appended — already encrypted — while this runs.
   */
  @Bean(destroyMethod = "close")
  Integrator auditIntegrator(
      LogStore store, AuditProperties p, AppendTarget target, KeyServices keys) {
    KeyRef dataKey = null;
    if (store.cipher().encrypts()) {
      requireBackend(keys, KeyRef.parse(p.checkpointKey()), "checkpoint-key");
      dataKey = requireBackend(keys, p.eventDataKey(), "data-key");
    }
    Integrator integrator = new Integrator(store, p.maxBatch(), p.queueCapacity());
    target.set(integrator);
    if (dataKey != null) {
      try {
        store.cipher().activate(dataKey, p.dataKeyType());
      } catch (RuntimeException e) {
        integrator.close();
        throw e;
      }
      log.info(
          "event=audit_event_key key={} use={}",
          dataKey,
          store.cipher().keyUse().get("eventKeyUse"));
    }
    return integrator;
  }

  /**
   * {@code ref}, when a backend of its kind is configured; otherwise the start fails saying which
   * property ({@code yinxin.audit.<property>}) to point elsewhere.
   */
  static KeyRef requireBackend(KeyServices keys, KeyRef ref, String property) {
    if (keys.backendFor(ref.scheme()).isEmpty()) {
      throw new IllegalStateException(
          "yinxin.audit."
              + property
              + " is "
              + ref
              + ", but no "
              + ref.scheme().uriScheme()
              + " key backend is configured (under prod software keys are off): point"
              + " yinxin.audit."
              + property
              + " at a key of a configured backend, e.g. pkcs11:token=yinxin;object=audit-"
              + (property.equals("checkpoint-key") ? "checkpoint" : "events"));
    }
    return ref;
  }

  /**
   * Where the key service's audit listener appends: the integrator as soon as it exists (while its
   * bean is still being made, during the event key's activation), else the integrator bean, made on
   * demand as before (a key used by a bean made before the log's).
   */
  static final class AppendTarget implements java.util.function.Supplier<AuditLog> {
    private final ObjectProvider<Integrator> bean;
    private volatile Integrator integrator;

    AppendTarget(ObjectProvider<Integrator> bean) {
      this.bean = bean;
    }

    void set(Integrator integrator) {
      this.integrator = integrator;
    }

    @Override
    public AuditLog get() {
      Integrator i = integrator;
      return i != null ? i::append : bean.getObject()::append;
    }
  }

  @Bean
  AppendTarget auditAppendTarget(ObjectProvider<Integrator> integrator) {
    return new AppendTarget(integrator);
  }

  @Bean
  AuditLog auditLog(Integrator integrator) {
    return integrator::append;
  }

  @Bean
  KeyUseAuditListener keyUseAuditListener(
      AppendTarget target, ObjectProvider<io.yinxin.audit.store.CheckpointKeys> checkpointKeys) {
    // Only the active checkpoint key is exempt; asked only for signatures, once the keys exist.
    return new KeyUseAuditListener(target, ref -> checkpointKeys.getObject().isActive(ref));
  }

  @Bean
  CheckpointPublisher checkpointPublisher(
      LogStore store,
      TileCache tiles,
      KeyServices keys,
      io.yinxin.audit.store.CheckpointKeys checkpointKeys) {
    return new CheckpointPublisher(store, tiles, keys, checkpointKeys);
  }

  /**
   * The checkpoint keys: {@code yinxin.audit.checkpoint-key} (created on first start) until a
   * rotation replaces it.
   */
  @Bean
  io.yinxin.audit.store.CheckpointKeys auditCheckpointKeys(
      LogStore store, KeyServices keys, AuditProperties p) {
    KeyRef ref = requireBackend(keys, KeyRef.parse(p.checkpointKey()), "checkpoint-key");
    try {
      keys.describe(ref);
    } catch (KeyException e) {
      if (e.code() != KeyException.Code.KEY_NOT_FOUND) {
        throw e;
      }
      keys.generate(ref.scheme(), KeySpec.ED25519, ref.label());
      log.info("event=audit_checkpoint_key_created key={}", ref);
    }
    return new io.yinxin.audit.store.CheckpointKeys(store, keys, ref, p.origin());
  }

  /** Reports the log in {@code /actuator/health} as component {@code auditLog}. */
  @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
  @org.springframework.boot.autoconfigure.condition.ConditionalOnClass(
      name = "org.springframework.boot.health.contributor.HealthIndicator")
  static class HealthConfiguration {
    @Bean
    AuditHealthIndicator auditLogHealthIndicator(CheckpointPublisher publisher) {
      return new AuditHealthIndicator(publisher);
    }
  }

  /** The log's state as gauges (yinxin_audit_*), when Micrometer is present (it is in a node). */
  @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
  @org.springframework.boot.autoconfigure.condition.ConditionalOnClass(
      name = "io.micrometer.core.instrument.binder.MeterBinder")
  static class MetricsConfiguration {
    @Bean
    AuditLogMetrics auditLogMetrics(
        LogStore store, Integrator integrator, CheckpointPublisher publisher) {
      return new AuditLogMetrics(store, integrator::queued, publisher);
    }
  }

  @Bean
  LogReader auditLogReader(LogStore store, TileCache tiles, CheckpointPublisher publisher) {
    return new LogReader(store, tiles, publisher.checkpointKeys());
  }

  @Bean
  EvidenceBundles auditEvidenceBundles(
      LogStore store, TileCache tiles, LogReader reader, CheckpointPublisher publisher) {
    return new EvidenceBundles(store, tiles, reader, publisher.checkpointKeys());
  }

  @Bean
  Cosignatures auditCosignatures(LogStore store, LogReader reader, AuditProperties p) {
    return new Cosignatures(
        store, reader, p.witnesses().stream().map(NoteVerifierKey::parse).toList());
  }

  @Bean
  AuditTokens auditTokens(AuditProperties p, Environment env) {
    return AuditTokens.from(p, Path.of(env.getProperty("yinxin.data-dir", "./data")));
  }

  /**
   * The checkpoint time-stamper when {@code yinxin.audit.tsa-url} is set, else nothing: without a
   * TSA a checkpoint carries only the log's own claim of time.
   */
  static Optional<CheckpointTimestamper> timestamper(LogStore store, AuditProperties p) {
    if (p.tsaUrl().isBlank()) {
      return Optional.empty();
    }
    Optional<X509CertificateHolder> trusted = Optional.empty();
    if (!p.tsaCertificate().isBlank()) {
      try (var in = Files.newBufferedReader(Path.of(p.tsaCertificate()));
          var pem = new PEMParser(in)) {
        Object o = pem.readObject();
        if (!(o instanceof X509CertificateHolder cert)) {
          throw new IllegalStateException(
              "yinxin.audit.tsa-certificate holds no PEM certificate: " + p.tsaCertificate());
        }
        trusted = Optional.of(cert);
      } catch (IOException e) {
        throw new IllegalStateException(
            "yinxin.audit.tsa-certificate cannot be read: " + p.tsaCertificate(), e);
      }
    }
    return Optional.of(
        new CheckpointTimestamper(store, URI.create(p.tsaUrl()), trusted, p.tsaTimeout()));
  }

  /** Where checkpoints wait for their time-stamp, off the publishing thread. */
  @Bean(destroyMethod = "shutdownNow")
  ThreadPoolExecutor auditTimestamps() {
    return new ThreadPoolExecutor(
        1,
        1,
        0,
        TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(64),
        r -> {
          Thread t = new Thread(r, "audit-timestamps");
          t.setDaemon(true);
          return t;
        },
        new ThreadPoolExecutor.DiscardOldestPolicy());
  }

  /**
   * With a TSA configured, when each new checkpoint is time-stamped (see {@link
   * CheckpointStamping}): from the moment the context has started (the web server with it, so a
   * node's own {@code /tsa} answers), one request at a time, a failed one again after a pause.
   */
  @Bean
  CheckpointStamping auditCheckpointStamping(
      LogStore store, ThreadPoolExecutor auditTimestamps, AuditProperties p) {
    return timestamper(store, p)
        .map(
            stamper ->
                new CheckpointStamping(
                    size -> {
                      if (stamper.stamp(size).isPresent()) {
                        AuditMetrics.timestamped(true);
                      }
                    },
                    auditTimestamps,
                    System::nanoTime))
        .orElseGet(CheckpointStamping::none);
  }

  /** Checkpoints are stamped once the context has started: the web server starts before this. */
  @Bean
  org.springframework.context.ApplicationListener<
          org.springframework.context.event.ContextRefreshedEvent>
      auditStampingStartsWhenReady(CheckpointStamping auditCheckpointStamping) {
    return e -> auditCheckpointStamping.ready();
  }

  /**
   * Publishes checkpoints on a schedule and, with a TSA configured, has each new one time-stamped;
   * records that this node's log started.
   */
  @Bean(destroyMethod = "shutdownNow")
  ScheduledExecutorService auditCheckpointScheduler(
      CheckpointPublisher publisher,
      AuditLog auditLog,
      LogStore store,
      CheckpointStamping auditCheckpointStamping,
      AuditProperties p) {
    // The event key this process wrapped or unwrapped is recorded here (see EventCipher).
    Map<String, String> attributes = new java.util.LinkedHashMap<>(store.cipher().keyUse());
    attributes.put("origin", p.origin());
    Receipt started =
        auditLog.append(AuditEvent.of(EventType.LOG_STARTED, "audit-log", p.origin(), attributes));
    log.info("event=audit_log_started origin={} index={}", p.origin(), started.index());
    ScheduledExecutorService s = io.yinxin.hsm.Schedulers.daemon("audit-checkpoints");
    long ms = Math.max(10, p.checkpointInterval().toMillis());
    s.scheduleWithFixedDelay(
        () -> {
          try {
            long size = publisher.publish();
            auditCheckpointStamping.published(size);
          } catch (RuntimeException e) {
            log.error("event=audit_checkpoint_failed reason={}", e.getMessage());
          }
        },
        0,
        ms,
        TimeUnit.MILLISECONDS);
    return s;
  }

  /**
   * Fills the query index ({@code audit.event_keys}) behind the acknowledged appends, every 250 ms,
   * on its own thread: in rounds of statements of {@link #INDEX_BATCH} entries until it has caught
   * up (or for {@link #INDEX_ROUND} at most, and on 250 ms later), so it keeps up with any append
   * rate and neither waits for a slow checkpoint nor delays one. Every node does it; a second node
   * finds the rows indexed and skips them.
   */
  @Bean(destroyMethod = "shutdownNow")
  ScheduledExecutorService auditIndexScheduler(LogStore store) {
    ScheduledExecutorService s = io.yinxin.hsm.Schedulers.daemon("audit-index");
    s.scheduleWithFixedDelay(
        () -> {
          try {
            store.indexCaughtUp(INDEX_BATCH, INDEX_ROUND.toNanos());
          } catch (RuntimeException e) {
            log.warn("event=audit_index_failed reason={}", e.getMessage());
          }
        },
        0,
        250,
        TimeUnit.MILLISECONDS);
    return s;
  }

  /** Entries indexed per statement. */
  private static final int INDEX_BATCH = 20_000;

  /** Longest an index round runs before the next is scheduled. */
  private static final Duration INDEX_ROUND = Duration.ofSeconds(5);

  /** The checkpoint job stops first when the node stops (see {@link #stopAndWait}). */
  @Bean
  org.springframework.context.ApplicationListener<
          org.springframework.context.event.ContextClosedEvent>
      auditJobsStopFirst(
          @org.springframework.beans.factory.annotation.Qualifier("auditCheckpointScheduler")
              ScheduledExecutorService checkpoints,
          ThreadPoolExecutor auditTimestamps) {
    return e -> stopAndWait(checkpoints, auditTimestamps);
  }

  /**
   * Stops background jobs when the context starts closing — before the web server, the connection
   * pool and the database go — and waits up to 10 s for a running round, so no job runs against a
   * closed data source (and no "already closed" is logged at every shutdown).
   */
  static void stopAndWait(java.util.concurrent.ExecutorService... executors) {
    for (java.util.concurrent.ExecutorService e : executors) {
      e.shutdown();
    }
    for (java.util.concurrent.ExecutorService e : executors) {
      try {
        if (!e.awaitTermination(10, TimeUnit.SECONDS)) {
          e.shutdownNow();
        }
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        e.shutdownNow();
      }
    }
  }
}
