package io.yinxin.ca.spring;

import io.yinxin.audit.AuditLog;
import io.yinxin.ca.acme.AcmeController;
import io.yinxin.ca.acme.AcmeService;
import io.yinxin.ca.crl.CrlService;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.http.CaController;
import io.yinxin.ca.http.CaOperators;
import io.yinxin.ca.http.CaProblems;
import io.yinxin.ca.http.RevocationInfoController;
import io.yinxin.ca.issue.IssuanceService;
import io.yinxin.ca.issue.Urls;
import io.yinxin.ca.ocsp.OcspResponder;
import io.yinxin.ca.ocsp.OcspServlet;
import io.yinxin.ca.profile.HierarchyConfig;
import io.yinxin.ca.revoke.RevocationService;
import io.yinxin.ca.revoke.RevokedKeys;
import io.yinxin.ca.store.CaStore;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;

/** The CA on this node: schema, hierarchy, issuance, revocation, CRLs, OCSP, REST API. */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "io.yinxin.hsm.spring.HsmAutoConfiguration",
      "io.yinxin.audit.spring.AuditAutoConfiguration",
      "io.yinxin.audit.spring.RemoteAuditConfiguration"
    })
@ConditionalOnProperty(prefix = "yinxin.ca", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(CaProperties.class)
@Import({
  CaController.class,
  RevocationInfoController.class,
  io.yinxin.ca.http.EmergencyController.class,
  CaProblems.class
})
public class CaAutoConfiguration {
  private static final Logger log = LoggerFactory.getLogger(CaAutoConfiguration.class);

  @Bean
  CaStore caStore(DataSource dataSource) {
    return CaStore.open(dataSource);
  }

  @Bean
  Hierarchy caHierarchy(
      CaProperties p,
      CaStore store,
      KeyService keys,
      io.yinxin.audit.AuditOutbox audit,
      Environment env) {
    HierarchyConfig config =
        p.hierarchyFile().isBlank()
            ? HierarchyConfig.defaults()
            : HierarchyConfig.load(Path.of(p.hierarchyFile()));
    String base =
        p.publicUrl().isBlank()
            ? "http://"
                + env.getProperty("server.address", "127.0.0.1")
                + ":"
                + env.getProperty("server.port", "8080")
            : p.publicUrl();
    KeyRef.Scheme scheme =
        switch (p.keyBackend()) {
          case "soft" -> KeyRef.Scheme.SOFT;
          case "pkcs11" -> KeyRef.Scheme.PKCS11;
          case "vault-transit" -> KeyRef.Scheme.VAULT_TRANSIT;
          default ->
              throw new IllegalStateException(
                  "yinxin.ca.key-backend must be soft, pkcs11 or vault-transit");
        };
    Hierarchy h = new Hierarchy(config, store, keys, scheme, new Urls(base), audit);
    if (p.initOnStart()) {
      h.init();
    } else {
      h.load();
    }
    return h;
  }

  @Bean
  IssuanceService caIssuance(
      Hierarchy h,
      CaStore store,
      KeyService keys,
      AuditLog audit,
      RevokedKeys revokedKeys,
      CaProperties p) {
    return new IssuanceService(h, store, keys, audit, revokedKeys, p.crlPartitionSize());
  }

  @Bean
  RevokedKeys caRevokedKeys(
      CaStore store, RevocationService revocations, io.yinxin.ca.revoke.StatusFeed feed) {
    RevokedKeys r = RevokedKeys.load(store); // after the feed took its starting point
    r.follow(revocations);
    r.follow(feed);
    return r;
  }

  /** Status changes of every node, followed by sequence number (not by clock). */
  @Bean
  io.yinxin.ca.revoke.StatusFeed caStatusFeed(CaStore store) {
    return new io.yinxin.ca.revoke.StatusFeed(store, java.time.Duration.ofMinutes(10));
  }

  /**
   * Polls the status feed four times a second on a thread of its own, so a slow CRL build or OCSP
   * refresh never delays another node's revocation reaching this one.
   */
  @Bean(destroyMethod = "shutdownNow")
  ScheduledExecutorService caStatusFeedScheduler(io.yinxin.ca.revoke.StatusFeed feed) {
    ScheduledExecutorService s = io.yinxin.hsm.Schedulers.daemon("ca-status-feed");
    s.scheduleWithFixedDelay(
        () -> {
          try {
            feed.poll();
          } catch (RuntimeException e) {
            log.warn("event=status_poll_failed reason={}", e.getClass().getSimpleName());
          }
        },
        250,
        250,
        TimeUnit.MILLISECONDS);
    return s;
  }

  @Bean
  RevocationService caRevocation(
      CaStore store,
      io.yinxin.audit.AuditOutbox audit,
      Hierarchy h,
      io.yinxin.ca.revoke.StatusFeed feed) {
    RevocationService r = new RevocationService(store, audit);
    // A CA whose own certificate is revoked (here or on another node) stops issuing at once.
    r.onChange(c -> h.certificateChanged(c.issuer(), c.serial(), c.status()));
    feed.follow(ch -> h.certificateChanged(ch.issuer(), ch.serial(), ch.status()));
    return r;
  }

  @Bean
  io.yinxin.ca.revoke.ServiceCompromise caServiceCompromise(
      Hierarchy h, CaStore store, RevocationService r, CrlService crls) {
    return new io.yinxin.ca.revoke.ServiceCompromise(h, store, r, crls);
  }

  @Bean
  io.yinxin.ca.revoke.CaCompromise caCompromise(
      Hierarchy h, CaStore store, RevocationService r, CrlService crls, IssuanceService issuance) {
    return new io.yinxin.ca.revoke.CaCompromise(h, store, r, crls, issuance);
  }

  @Bean
  CrlService caCrls(
      Hierarchy h,
      CaStore store,
      KeyService keys,
      io.yinxin.audit.AuditOutbox audit,
      CaProperties p) {
    return new CrlService(
        h, store, keys, audit, p.crlValidity(), p.deltaCrlValidity(), p.rootCrlValidity());
  }

  @Bean
  OcspResponder caOcsp(
      Hierarchy h,
      CaStore store,
      KeyService keys,
      CaProperties p,
      RevocationService r,
      IssuanceService issuance,
      AuditLog audit,
      io.yinxin.ca.revoke.StatusFeed feed,
      java.util.concurrent.ThreadPoolExecutor caOcspPresign) {
    OcspResponder o =
        new OcspResponder(
            h,
            store,
            keys,
            audit,
            p.ocspValidity(),
            p.ocspRefreshBefore(),
            p.ocspCacheSize(),
            p.ocspLimits().limits());
    o.follow(r);
    o.follow(feed);
    issuance.onIssued((ca, serial) -> caOcspPresign.execute(() -> o.presign(ca, serial)));
    return o;
  }

  /**
   * Pre-signs the OCSP answer for each new certificate off the request path; when its queue is full
   * the first request signs instead.
   */
  @Bean(destroyMethod = "shutdownNow")
  java.util.concurrent.ThreadPoolExecutor caOcspPresign() {
    return new java.util.concurrent.ThreadPoolExecutor(
        1,
        1,
        0,
        TimeUnit.MILLISECONDS,
        new java.util.concurrent.ArrayBlockingQueue<>(10_000),
        run -> {
          Thread t = new Thread(run, "ocsp-presign");
          t.setDaemon(true);
          return t;
        },
        new java.util.concurrent.ThreadPoolExecutor.DiscardPolicy());
  }

  /** OCSP as a plain servlet on /ca/ocsp and /ca/ocsp/* (the hot path skips Spring MVC). */
  @Bean
  org.springframework.boot.web.servlet.ServletRegistrationBean<OcspServlet> caOcspServlet(
      org.springframework.beans.factory.ObjectProvider<OcspResponder> ocsp) {
    var reg =
        new org.springframework.boot.web.servlet.ServletRegistrationBean<>(
            new OcspServlet(ocsp::getObject), "/ca/ocsp", "/ca/ocsp/*");
    reg.setName("ocsp");
    return reg;
  }

  /** CRL and OCSP state as gauges (yinxin_ca_*), when Micrometer is present (it is in a node). */
  @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
  @org.springframework.boot.autoconfigure.condition.ConditionalOnClass(
      name = "io.micrometer.core.instrument.binder.MeterBinder")
  static class MetricsConfiguration {
    @Bean(destroyMethod = "close")
    CaStateMetrics caStateMetrics(CaStore store, OcspResponder ocsp, CaProperties p) {
      return new CaStateMetrics(store.crls(), ocsp, p.ocspRefreshBefore());
    }
  }

  @Bean
  CaOperators caOperators(CaProperties p, Environment env) {
    Optional<io.yinxin.audit.access.IssuerAccessTokens> issuer =
        p.issuerUri().isBlank()
            ? Optional.empty()
            : Optional.of(
                new io.yinxin.audit.access.IssuerAccessTokens(
                    p.issuerUri(), java.time.Duration.ofSeconds(10)));
    if (!p.operators().isEmpty() || !p.generateDevToken()) {
      return new CaOperators(p.operators(), Optional.empty(), issuer);
    }
    Path file = Path.of(env.getProperty("yinxin.data-dir", "./data"), "ca-tokens.properties");
    try {
      Properties props =
          io.yinxin.hsm.OwnerOnlyFiles.createOrLoad(
              file,
              () -> {
                byte[] b = new byte[24];
                new SecureRandom().nextBytes(b);
                Properties fresh = new Properties();
                fresh.setProperty("operator", "yx_" + HexFormat.of().formatHex(b));
                return fresh;
              },
              "Yinxin development CA operator token");
      String token = props.getProperty("operator");
      return new CaOperators(
          List.of(
              new CaOperators.Operator(
                  "dev-operator",
                  HexFormat.of().formatHex(CaOperators.sha256(token)),
                  List.copyOf(CaOperators.SCOPES))),
          Optional.of(token),
          issuer);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + file, e);
    }
  }

  /** ACME (RFC 8555) for TLS server certificates, when {@code yinxin.ca.acme.enabled}. */
  @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(
      prefix = "yinxin.ca.acme",
      name = "enabled",
      havingValue = "true",
      matchIfMissing = true)
  @Import({AcmeController.class, io.yinxin.ca.http.AcmeKeysController.class})
  static class AcmeConfiguration {
    @Bean(destroyMethod = "shutdownNow")
    java.util.concurrent.ExecutorService acmeValidations() {
      // Four validations at a time, each over within 10 s however the peer drips, and a bounded
      // queue: a flood of challenges gets rateLimited instead of growing memory or waiting times.
      return new java.util.concurrent.ThreadPoolExecutor(
          4,
          4,
          0,
          TimeUnit.MILLISECONDS,
          new java.util.concurrent.ArrayBlockingQueue<>(64),
          r -> {
            Thread t = new Thread(r, "acme-http01");
            t.setDaemon(true);
            return t;
          },
          new java.util.concurrent.ThreadPoolExecutor.AbortPolicy());
    }

    @Bean
    AcmeService acmeService(
        CaStore store,
        Hierarchy h,
        IssuanceService issuance,
        RevocationService revocation,
        CaProperties p,
        java.util.concurrent.ExecutorService acmeValidations,
        io.yinxin.audit.AuditOutbox audit) {
      CaProperties.Acme a = p.acme();
      return new AcmeService(
          store,
          h,
          issuance,
          revocation,
          new AcmeService.AcmeSettings(
              a.profile(),
              a.allowLocalhost(),
              a.allowedDomains(),
              a.http01Port(),
              new AcmeService.RateLimits(
                  a.rateLimits().requestsPerSecond(),
                  a.rateLimits().requestBurst(),
                  a.rateLimits().newAccountsPerHour(),
                  a.rateLimits().newAccountsPerIpv6RangePerHour(),
                  a.rateLimits().newOrdersPerHour(),
                  a.rateLimits().failedValidationsPerHour()),
              a.externalAccountRequired()),
          acmeValidations,
          audit);
    }
  }

  /**
   * OCSP over GET carries base64 in the path, URL-encoded (RFC 6960 Appendix A.1), so {@code %2F}
   * must reach the responder: Tomcat rejects an encoded slash by default; pass it through undecoded
   * (the responder decodes it itself; no path is ever resolved from it).
   */
  @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
  @org.springframework.boot.autoconfigure.condition.ConditionalOnClass(
      name = "org.springframework.boot.tomcat.TomcatConnectorCustomizer")
  static class TomcatEncodedSlash {
    @Bean
    org.springframework.boot.tomcat.TomcatConnectorCustomizer ocspEncodedSlash() {
      return connector -> connector.setEncodedSolidusHandling("passthrough");
    }
  }

  /**
   * Time-critical jobs get a thread each, so a slow one never delays another: CRLs must be signed
   * before their nextUpdate ({@code ca-crl}), cached OCSP answers re-signed before theirs ({@code
   * ca-ocsp}); status changes of other nodes have their own thread too ({@code ca-status-feed}).
   * Housekeeping shares one ({@code ca-housekeeping}).
   */
  @Bean(destroyMethod = "shutdownNow")
  ScheduledExecutorService caCrlScheduler(CrlService crls, CaProperties p) {
    ScheduledExecutorService s = io.yinxin.hsm.Schedulers.daemon("ca-crl");
    Duration every = Duration.ofMillis(Math.max(1000, p.crlCheckInterval().toMillis()));
    every(s, every, every, "crl_refresh_failed", crls::tick);
    return s;
  }

  /** Re-signs cached OCSP answers before they are due, and tallies the OCSP signatures made. */
  @Bean(destroyMethod = "shutdownNow")
  ScheduledExecutorService caOcspScheduler(OcspResponder ocsp, CaProperties p) {
    ScheduledExecutorService s = io.yinxin.hsm.Schedulers.daemon("ca-ocsp");
    every(
        s,
        Duration.ofMinutes(1),
        Duration.ofMinutes(1),
        "ocsp_refresh_failed",
        () -> {
          int n = ocsp.refresh(Duration.ofMinutes(2));
          if (n > 0) {
            log.info("event=ocsp_refreshed responses={}", n);
          }
        });
    every(
        s,
        p.ocspKeyUseInterval(),
        p.ocspKeyUseInterval(),
        "ocsp_key_use_failed",
        () -> ocsp.recordKeyUse());
    return s;
  }

  /**
   * Renews OCSP signer and TSA certificates before they expire, on whichever node claims it first
   * (the others load the new ones; responders switch without a restart), and purges ACME state.
   */
  @Bean(destroyMethod = "shutdownNow")
  ScheduledExecutorService caScheduler(
      Hierarchy hierarchy,
      CaProperties p,
      org.springframework.beans.factory.ObjectProvider<AcmeService> acme) {
    ScheduledExecutorService s = io.yinxin.hsm.Schedulers.daemon("ca-housekeeping");
    every(
        s,
        p.serviceRenewalInterval(),
        p.serviceRenewalInterval(),
        "service_renewal_failed",
        () -> hierarchy.renewServices());
    every(
        s,
        Duration.ofMinutes(1),
        Duration.ofMinutes(10),
        "acme_purge_failed",
        () -> {
          AcmeService a = acme.getIfAvailable();
          if (a != null) {
            a.purge();
          }
        });
    return s;
  }

  /** Runs {@code job} periodically; a failure is logged as {@code event} and the job goes on. */
  private static void every(
      ScheduledExecutorService s, Duration initial, Duration period, String event, Runnable job) {
    s.scheduleWithFixedDelay(
        () -> {
          try {
            job.run();
          } catch (RuntimeException e) {
            log.warn("event={} reason={}", event, e.getMessage());
          }
        },
        initial.toMillis(),
        period.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** The CA's periodic jobs stop first when the node stops (see {@link #stopAndWait}). */
  @Bean
  org.springframework.context.ApplicationListener<
          org.springframework.context.event.ContextClosedEvent>
      caJobsStopFirst(
          @org.springframework.beans.factory.annotation.Qualifier("caScheduler")
              ScheduledExecutorService housekeeping,
          @org.springframework.beans.factory.annotation.Qualifier("caCrlScheduler")
              ScheduledExecutorService crl,
          @org.springframework.beans.factory.annotation.Qualifier("caOcspScheduler")
              ScheduledExecutorService ocsp,
          @org.springframework.beans.factory.annotation.Qualifier("caStatusFeedScheduler")
              ScheduledExecutorService feed) {
    return e -> stopAndWait(feed, crl, ocsp, housekeeping);
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
