package io.yinxin.ops;

import io.yinxin.audit.spring.AuditTokens;
import io.yinxin.audit.store.CheckpointPublisher;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.http.CaOperators;
import io.yinxin.hsm.KeyService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.Environment;
import org.springframework.core.env.Profiles;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Like {@code vault server -dev}: on the embedded default, prints every URL a newcomer needs and
 * writes the same to {@code ./data/dev.json} (owner-only) for scripts. Each module adds its entries
 * here as it lands.
 */
@Component
class DevWelcome {
  private static final Logger log = LoggerFactory.getLogger(DevWelcome.class);
  private final Environment env;
  private final KeyService keys;
  private final ObjectProvider<CheckpointPublisher> auditLog;
  private final ObjectProvider<AuditTokens> auditTokens;
  private final ObjectProvider<Hierarchy> ca;
  private final ObjectProvider<CaOperators> caOperators;
  private final ObjectProvider<io.yinxin.ca.issue.IssuanceService> issuance;
  private final ObjectProvider<io.yinxin.sign.registry.SealRegistry> seals;
  private final ObjectProvider<io.yinxin.sign.http.SignCallers> signCallers;
  private final ObjectProvider<io.yinxin.sso.client.DemoClient> demoClient;
  private final ObjectProvider<io.yinxin.sso.account.DemoUser> demoUser;
  private final ObjectProvider<io.yinxin.sso.http.SsoAdmins> ssoAdmins;

  DevWelcome(
      Environment env,
      KeyService keys,
      ObjectProvider<CheckpointPublisher> auditLog,
      ObjectProvider<AuditTokens> auditTokens,
      ObjectProvider<Hierarchy> ca,
      ObjectProvider<CaOperators> caOperators,
      ObjectProvider<io.yinxin.ca.issue.IssuanceService> issuance,
      ObjectProvider<io.yinxin.sign.registry.SealRegistry> seals,
      ObjectProvider<io.yinxin.sign.http.SignCallers> signCallers,
      ObjectProvider<io.yinxin.sso.client.DemoClient> demoClient,
      ObjectProvider<io.yinxin.sso.account.DemoUser> demoUser,
      ObjectProvider<io.yinxin.sso.http.SsoAdmins> ssoAdmins) {
    this.ssoAdmins = ssoAdmins;
    this.demoClient = demoClient;
    this.demoUser = demoUser;
    this.issuance = issuance;
    this.seals = seals;
    this.signCallers = signCallers;
    this.env = env;
    this.keys = keys;
    this.auditLog = auditLog;
    this.auditTokens = auditTokens;
    this.ca = ca;
    this.caOperators = caOperators;
  }

  @EventListener(ApplicationReadyEvent.class)
  void welcome() {
    if (env.acceptsProfiles(Profiles.of("prod"))) {
      return;
    }
    String host = env.getProperty("server.address", "127.0.0.1");
    String base = "http://" + host + ":" + env.getProperty("local.server.port", "8080");
    Map<String, Object> dev = new LinkedHashMap<>();
    dev.put("baseUrl", base);
    dev.put("healthUrl", base + "/actuator/health");
    dev.put("keyBackends", keys.health().backends().keySet());
    CheckpointPublisher audit = auditLog.getIfAvailable();
    if (audit != null) {
      dev.put("auditLogUrl", base + "/audit");
      dev.put("auditVerifierKey", audit.verifierKey().toString());
      AuditTokens t = auditTokens.getIfAvailable();
      if (t != null) {
        t.devAuditorToken().ifPresent(v -> dev.put("auditorToken", v));
        t.devWriterToken().ifPresent(v -> dev.put("auditWriterToken", v));
        t.devAdminToken().ifPresent(v -> dev.put("auditAdminToken", v));
      }
    }
    if (env.getProperty("yinxin.sign.enabled", Boolean.class, true)
        && env.getProperty("yinxin.sign.tsa.enabled", Boolean.class, true)) {
      dev.put("tsaUrl", base + "/tsa");
    }
    var callers = signCallers.getIfAvailable();
    var registry = seals.getIfAvailable();
    var issuer = issuance.getIfAvailable();
    if (callers != null && registry != null && callers.devToken().isPresent()) {
      dev.put("sealApiUrl", base + "/sign/v1");
      dev.put("sealToken", callers.devToken().get());
      if (issuer != null && keys.health().backends().containsKey("soft")) {
        DemoSeal.ensure(keys, issuer, registry, previousDemoSeal())
            .ifPresent(id -> dev.put("demoSealId", id));
      }
    }
    var client = demoClient.getIfAvailable();
    if (client != null && client.secret().isPresent()) {
      dev.put("oidcIssuer", base);
      Map<String, String> c = new LinkedHashMap<>();
      c.put("id", client.clientId());
      c.put("secret", client.secret().get());
      dev.put("demoClient", c);
      var person = demoUser.getIfAvailable();
      if (person != null && person.password().isPresent()) {
        Map<String, String> u = new LinkedHashMap<>();
        u.put("username", person.username());
        u.put("password", person.password().get());
        dev.put("demoUser", u);
      }
      dev.put("ssoClientsUrl", base + "/sso/v1/clients");
      var admins = ssoAdmins.getIfAvailable();
      if (admins != null) {
        admins.devToken().ifPresent(v -> dev.put("ssoAdminToken", v));
      }
    }
    Hierarchy h = ca.getIfAvailable();
    if (h != null && h.findIssuer("root").isPresent()) {
      dev.put("rootCaCertificateUrl", base + "/ca/v1/cas/root/certificate");
      dev.put("caApiUrl", base + "/ca/v1");
      dev.put("ocspUrl", base + "/ca/ocsp");
      if (env.getProperty("yinxin.ca.acme.enabled", Boolean.class, true)) {
        dev.put("acmeDirectoryUrl", base + "/acme/directory");
      }
      CaOperators ops = caOperators.getIfAvailable();
      if (ops != null) {
        ops.devToken().ifPresent(v -> dev.put("caOperatorToken", v));
      }
    }
    Path dataDir = dataDir();
    write(
        dataDir.resolve("dev.json"),
        JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(dev));

    StringBuilder sb = new StringBuilder();
    sb.append("\n==== Yinxin 印信 is running (embedded development mode) ====\n");
    sb.append("  Base URL        ").append(base).append('\n');
    sb.append("  Health          ").append(base).append("/actuator/health\n");
    sb.append("  Key backends    ").append(keys.health().backends()).append('\n');
    if (dev.containsKey("auditLogUrl")) {
      sb.append("  Audit log       ").append(dev.get("auditLogUrl")).append("/checkpoint\n");
      sb.append("  Log key         ").append(dev.get("auditVerifierKey")).append('\n');
      sb.append("  Auditor token   in dev.json (auditorToken)\n");
    }
    if (dev.containsKey("rootCaCertificateUrl")) {
      sb.append("  Root CA         ").append(dev.get("rootCaCertificateUrl")).append('\n');
      sb.append("  CA API          ").append(dev.get("caApiUrl")).append("/certificates\n");
      sb.append("  OCSP            ").append(dev.get("ocspUrl")).append('\n');
      if (dev.containsKey("acmeDirectoryUrl")) {
        sb.append("  ACME            ").append(dev.get("acmeDirectoryUrl")).append('\n');
      }
      sb.append("  CA token        in dev.json (caOperatorToken)\n");
    }
    if (dev.containsKey("demoSealId")) {
      sb.append("  Seal API        ")
          .append(dev.get("sealApiUrl"))
          .append(" (demo seal ")
          .append(dev.get("demoSealId"))
          .append(", token sealToken in dev.json)\n");
    }
    if (dev.containsKey("oidcIssuer")) {
      sb.append("  OpenID issuer   ")
          .append(dev.get("oidcIssuer"))
          .append("/.well-known/openid-configuration (demo client in dev.json)\n");
    }
    if (dev.containsKey("tsaUrl")) {
      sb.append("  Time stamps     ").append(dev.get("tsaUrl")).append(" (RFC 3161)\n");
    }
    sb.append("  Data            ").append(dataDir.toAbsolutePath().normalize()).append('\n');
    sb.append("  For scripts     ").append(dataDir.resolve("dev.json")).append('\n');
    sb.append("  Not for production: see README, \"Running in production\".\n");
    sb.append("=============================================================\n");
    System.out.print(sb);
  }

  private Path dataDir() {
    return Path.of(env.getProperty("yinxin.data-dir", "./data"));
  }

  /** The demo seal's id as the previous start wrote it to {@code dev.json}, if it did. */
  private Optional<String> previousDemoSeal() {
    Path file = dataDir().resolve("dev.json");
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      JsonNode id = JsonMapper.builder().build().readTree(file.toFile()).path("demoSealId");
      return id.isString() ? Optional.of(id.asString()) : Optional.empty();
    } catch (JacksonException e) {
      log.warn("event=dev_json_unreadable file={} (a new demo seal is made)", file);
      return Optional.empty();
    }
  }

  /**
   * Writes {@code file} (owner-only) by an atomic rename of a temporary file of its own ({@link
   * io.yinxin.hsm.OwnerOnlyFiles#replace}), so that nodes starting together on one data folder
   * (pods sharing a volume) each replace it whole: with one temporary name for all, two starting
   * nodes removed and created each other's, and one of them failed its start ({@code
   * FileAlreadyExistsException}, found by {@code MultiNodeTest}).
   */
  static void write(Path file, String content) {
    try {
      io.yinxin.hsm.OwnerOnlyFiles.replace(file, (content + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
