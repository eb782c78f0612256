package io.yinxin.sign.spring;

import io.yinxin.audit.AuditLog;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.hsm.KeyService;
import io.yinxin.sign.http.SealController;
import io.yinxin.sign.http.SignCallers;
import io.yinxin.sign.http.SignProblems;
import io.yinxin.sign.http.TsaServlet;
import io.yinxin.sign.pades.PadesSealer;
import io.yinxin.sign.pades.SealOptions;
import io.yinxin.sign.pades.TimeStamps;
import io.yinxin.sign.registry.SealRegistry;
import io.yinxin.sign.seal.SealFont;
import io.yinxin.sign.tsa.PemTsaCredentials;
import io.yinxin.sign.tsa.TimeStampAuthority;
import io.yinxin.sign.tsa.TsaCredentials;
import io.yinxin.sign.tsa.TsaSerials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;

/** The signing service on this node: schema {@code sign}, the TSA, the seal registry and API. */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "io.yinxin.hsm.spring.HsmAutoConfiguration",
      "io.yinxin.audit.spring.AuditAutoConfiguration",
      "io.yinxin.audit.spring.RemoteAuditConfiguration"
    })
@ConditionalOnProperty(prefix = "yinxin.sign", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(SignProperties.class)
@Import(SignProblems.class)
public class SignAutoConfiguration {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(SignAutoConfiguration.class);

  /** Migrates schema {@code sign} (its own Flyway history). */
  @Bean
  SignSchema signSchema(DataSource dataSource) {
    return SignSchema.migrate(dataSource);
  }

  @Bean
  TsaSerials signTsaSerials(DataSource dataSource, SignSchema schema) {
    return new TsaSerials(dataSource);
  }

  /**
   * The TSA key: configured ({@code yinxin.sign.tsa.key} + {@code certificate-chain}), else a
   * {@link TsaCredentials} bean another module provides (ops wires the CA hierarchy's TSA service
   * certificate), else none: then every request is answered {@code systemFailure}.
   */
  @Bean
  TimeStampAuthority signTsa(
      SignProperties p,
      KeyService keys,
      TsaSerials serials,
      ObjectProvider<TsaCredentials> provided,
      AuditLog audit) {
    SignProperties.Tsa t = p.tsa();
    TsaCredentials credentials;
    if (!t.key().isBlank()) {
      if (t.certificateChain().isBlank()) {
        throw new IllegalStateException(
            "yinxin.sign.tsa.key needs yinxin.sign.tsa.certificate-chain");
      }
      if (!t.sm2Key().isBlank() && t.sm2CertificateChain().isBlank()) {
        throw new IllegalStateException(
            "yinxin.sign.tsa.sm2-key needs yinxin.sign.tsa.sm2-certificate-chain");
      }
      credentials =
          new PemTsaCredentials(
              keys,
              t.key(),
              Path.of(t.certificateChain()),
              t.sm2Key().isBlank()
                  ? Optional.empty()
                  : Optional.of(Map.entry(t.sm2Key(), Path.of(t.sm2CertificateChain()))));
    } else {
      TsaCredentials other = provided.getIfAvailable();
      credentials = other != null ? other : Optional::empty;
    }
    io.yinxin.sign.SignMetrics.init();
    return new TimeStampAuthority(
        keys, credentials, serials, t.policy(), t.accuracy(), Clock.systemUTC(), audit);
  }

  /**
   * Records the TSA's tokens as one {@code KEY_USED} event per key every {@code
   * yinxin.sign.tsa.key-use-interval} ({@link TimeStampAuthority#recordKeyUse}); the rest is
   * recorded when the TSA closes.
   */
  @Bean(destroyMethod = "shutdownNow")
  java.util.concurrent.ScheduledExecutorService signTsaKeyUse(
      TimeStampAuthority tsa, SignProperties p) {
    java.util.concurrent.ScheduledExecutorService s =
        io.yinxin.hsm.Schedulers.daemon("sign-tsa-key-use");
    long ms = Math.max(100, p.tsa().keyUseInterval().toMillis());
    s.scheduleWithFixedDelay(
        () -> {
          try {
            tsa.recordKeyUse();
          } catch (RuntimeException e) {
            log.warn("event=tsa_key_use_failed reason={}", e.getClass().getSimpleName());
          }
        },
        ms,
        ms,
        java.util.concurrent.TimeUnit.MILLISECONDS);
    return s;
  }

  @Bean
  SealRegistry signSealRegistry(
      DataSource dataSource, KeyService keys, AuditOutbox audit, SignSchema schema) {
    return new SealRegistry(dataSource, keys, audit, Clock.systemUTC());
  }

  /** Revocation data of seal chains (B-LT, and the status check before a CSC signature). */
  @Bean
  io.yinxin.sign.pades.RevocationFetcher signRevocationFetcher() {
    return new io.yinxin.sign.pades.RevocationFetcher(
        java.time.Duration.ofSeconds(10), Clock.systemUTC());
  }

  @Bean
  PadesSealer signPadesSealer(
      SignProperties p,
      KeyService keys,
      TimeStampAuthority tsa,
      io.yinxin.sign.pades.RevocationFetcher revocation) {
    Optional<SealFont> font =
        p.sealFont().isBlank() ? SealFont.installed() : Optional.of(SealFont.of(p.sealFont()));
    if (font.isEmpty()) {
      log.warn("event=sign_no_seal_font action=drawn_seals_unavailable hint=fonts-arphic-uming");
    }
    io.yinxin.sign.pades.DecodeBudget.setLimit(p.maxDecodedBytes());
    return new PadesSealer(keys, font, Optional.of(new TimeStamps(tsa::respond)), revocation);
  }

  @Bean
  SignCallers signCallers(SignProperties p, Environment env) {
    if (!p.callers().isEmpty() || !p.generateDevToken()) {
      return new SignCallers(p.callers(), Optional.empty());
    }
    Path file = Path.of(env.getProperty("yinxin.data-dir", "./data"), "sign-tokens.properties");
    try {
      Properties props =
          io.yinxin.hsm.OwnerOnlyFiles.createOrLoad(
              file,
              () -> {
                byte[] b = new byte[24];
                io.yinxin.hsm.Randomness.current().nextBytes(b);
                Properties fresh = new Properties();
                fresh.setProperty("dev-sealer", "yx_" + HexFormat.of().formatHex(b));
                return fresh;
              },
              "Yinxin development seal API token");
      String token = props.getProperty("dev-sealer");
      return new SignCallers(
          List.of(
              new SignCallers.Caller(
                  "dev-sealer",
                  HexFormat.of().formatHex(SignCallers.sha256(token)),
                  List.copyOf(SignCallers.SCOPES))),
          Optional.of(token));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + file, e);
    }
  }

  /**
   * Trust anchors for validation: {@code yinxin.sign.trust-anchors} (PEM files), else a {@link
   * io.yinxin.sign.validate.TrustAnchors} bean another module provides (ops: the CA's roots), else
   * none.
   */
  @Bean
  io.yinxin.sign.validate.PadesValidator signPadesValidator(
      SignProperties p, ObjectProvider<io.yinxin.sign.validate.TrustAnchors> provided) {
    io.yinxin.sign.pades.DecodeBudget.setLimit(p.maxDecodedBytes());
    if (!p.trustAnchors().isEmpty()) {
      List<org.bouncycastle.cert.X509CertificateHolder> anchors = new java.util.ArrayList<>();
      for (String f : p.trustAnchors()) {
        anchors.addAll(io.yinxin.sign.tsa.PemTsaCredentials.readChain(Path.of(f)));
      }
      List<org.bouncycastle.cert.X509CertificateHolder> fixed = List.copyOf(anchors);
      return new io.yinxin.sign.validate.PadesValidator(() -> fixed, p.maxSignatures());
    }
    io.yinxin.sign.validate.TrustAnchors other = provided.getIfAvailable();
    return new io.yinxin.sign.validate.PadesValidator(
        other != null ? other : List::of, p.maxSignatures());
  }

  /**
   * The gate of {@code /sign/v1/validate}: {@code yinxin.sign.concurrent-validations} at once,
   * {@code concurrent-validations-per-address} of them from one client address.
   */
  @Bean
  io.yinxin.sign.http.DocumentGate signValidationGate(SignProperties p) {
    int permits =
        p.concurrentValidations() > 0
            ? p.concurrentValidations()
            : Runtime.getRuntime().availableProcessors();
    return new io.yinxin.sign.http.DocumentGate(
        "validation",
        permits,
        share(p.concurrentValidationsPerAddress(), permits),
        java.time.Duration.ZERO);
  }

  @Bean
  io.yinxin.sign.http.ValidationController signValidationController(
      io.yinxin.sign.validate.PadesValidator validator,
      SignProperties p,
      @org.springframework.beans.factory.annotation.Qualifier("signValidationGate")
          io.yinxin.sign.http.DocumentGate gate) {
    return new io.yinxin.sign.http.ValidationController(validator, p.maxDocumentBytes(), gate);
  }

  /**
   * Who may call the seal API: with {@code yinxin.sign.issuer-uri}, that OAuth2 issuer's access
   * tokens; otherwise the configured bearer tokens.
   */
  @Bean
  @org.springframework.context.annotation.Primary
  io.yinxin.sign.http.Callers signApiCallers(SignProperties p, SignCallers configured) {
    return p.issuerUri().isBlank()
        ? configured
        : new io.yinxin.sign.http.JwtCallers(p.issuerUri(), java.time.Duration.ofSeconds(10));
  }

  @Bean
  io.yinxin.sign.http.SealKeyController signSealKeyController(
      io.yinxin.hsm.KeyService keys, io.yinxin.sign.http.Callers callers) {
    return new io.yinxin.sign.http.SealKeyController(keys, callers);
  }

  @Bean
  SealController signSealController(
      SealRegistry registry,
      io.yinxin.sign.http.Callers callers,
      PadesSealer sealer,
      AuditLog audit,
      SignProperties p,
      @org.springframework.beans.factory.annotation.Qualifier("signSealGate")
          io.yinxin.sign.http.DocumentGate sealGate) {
    return new SealController(
        registry,
        callers,
        sealer,
        audit,
        SealOptions.Level.parse(p.defaultLevel()),
        p.maxDocumentBytes(),
        p.maxBatchDocuments(),
        Clock.systemUTC(),
        sealGate);
  }

  /**
   * The gate of the seal API: {@code yinxin.sign.concurrent-seals} documents at once, waiting up to
   * {@code seal-wait} for a turn; {@code concurrent-seals-per-caller} of them for one caller.
   */
  @Bean
  io.yinxin.sign.http.DocumentGate signSealGate(SignProperties p) {
    int permits =
        p.concurrentSeals() > 0
            ? p.concurrentSeals()
            : 2 * Runtime.getRuntime().availableProcessors();
    return new io.yinxin.sign.http.DocumentGate(
        "seal", permits, share(p.concurrentSealsPerCaller(), permits), p.sealWait());
  }

  /** A client's share of a gate's permits: as configured (at most all), or half rounded up. */
  private static int share(int configured, int permits) {
    return configured > 0 ? Math.min(configured, permits) : (permits + 1) / 2;
  }

  @Bean
  @ConditionalOnProperty(
      prefix = "yinxin.sign.csc",
      name = "enabled",
      havingValue = "true",
      matchIfMissing = true)
  io.yinxin.sign.http.CscController signCscController(
      SealRegistry registry,
      io.yinxin.sign.http.Callers callers,
      KeyService keys,
      AuditLog audit,
      DataSource dataSource,
      io.yinxin.sign.pades.RevocationFetcher revocation,
      SignProperties p,
      SignSchema schema) {
    return new io.yinxin.sign.http.CscController(
        registry,
        callers,
        keys,
        audit,
        new io.yinxin.sign.csc.SignatureActivations(dataSource, p.csc().sadLifetime()),
        revocation,
        p.issuerUri().isBlank() ? Optional.empty() : Optional.of(p.issuerUri()),
        Clock.systemUTC());
  }

  @Bean
  @ConditionalOnProperty(
      prefix = "yinxin.sign.tsa",
      name = "enabled",
      havingValue = "true",
      matchIfMissing = true)
  org.springframework.boot.web.servlet.ServletRegistrationBean<TsaServlet> signTsaServlet(
      org.springframework.beans.factory.ObjectProvider<TimeStampAuthority> tsa, SignProperties p) {
    var reg =
        new org.springframework.boot.web.servlet.ServletRegistrationBean<>(
            new TsaServlet(tsa::getObject, p.tsa().maxRequestBytes(), p.tsa().limits().limits()),
            "/tsa");
    reg.setName("tsa");
    return reg;
  }
}
