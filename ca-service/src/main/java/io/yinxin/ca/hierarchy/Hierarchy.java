package io.yinxin.ca.hierarchy;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import io.yinxin.ca.CaException;
import io.yinxin.ca.issue.CertificateFactory;
import io.yinxin.ca.issue.Issuer;
import io.yinxin.ca.issue.KeyPolicy;
import io.yinxin.ca.issue.Names;
import io.yinxin.ca.issue.Urls;
import io.yinxin.ca.profile.CaConfig;
import io.yinxin.ca.profile.HierarchyConfig;
import io.yinxin.ca.profile.Profile;
import io.yinxin.ca.store.AuthorityStore.AuthorityRecord;
import io.yinxin.ca.store.AuthorityStore.ServiceRecord;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA hierarchy: creates what the configuration names and is missing ({@link #init}), and hands
 * out the issuers and service keys. Init is idempotent and never changes an existing CA.
 */
public final class Hierarchy {
  private static final Logger log = LoggerFactory.getLogger(Hierarchy.class);

  /** A delegated OCSP signer or TSA certificate is renewed when it has less than this left. */
  static final Duration RENEW_BEFORE = Duration.ofDays(30);

  private final HierarchyConfig config;
  private final CaStore store;
  private final KeyService keys;
  private final KeyRef.Scheme caKeyScheme;
  private final Urls urls;
  private final AuditOutbox audit;
  private final Map<String, Issuer> issuers = new ConcurrentHashMap<>();
  private final Map<String, ServiceKey> services = new ConcurrentHashMap<>();

  /** Parent of each CA that has one, as stored. */
  private final Map<String, String> parents = new ConcurrentHashMap<>();

  /** CAs whose own certificate is revoked or on hold: they issue nothing. */
  private final java.util.Set<String> revokedCas = ConcurrentHashMap.newKeySet();

  /**
   * A certificate the system uses itself, with its key.
   *
   * @param name e.g. {@code ocsp-citizen}
   * @param certificate its certificate
   * @param key its key
   * @param algorithm how it signs
   */
  public record ServiceKey(
      String name, X509CertificateHolder certificate, KeyRef key, SignatureAlgorithm algorithm) {}

  /** What {@link #init} did. */
  public record InitReport(List<String> created, List<String> existing) {}

  public Hierarchy(
      HierarchyConfig config,
      CaStore store,
      KeyService keys,
      KeyRef.Scheme caKeyScheme,
      Urls urls,
      AuditOutbox audit) {
    this.config = config;
    this.store = store;
    this.keys = keys;
    this.caKeyScheme = caKeyScheme;
    this.urls = urls;
    this.audit = audit;
  }

  public HierarchyConfig config() {
    return config;
  }

  public Urls urls() {
    return urls;
  }

  /**
   * Creates every CA, delegated OCSP signer and service certificate of the configuration that does
   * not exist yet, then loads them all.
   */
  public synchronized InitReport init() {
    List<String> created = new ArrayList<>();
    List<String> existing = new ArrayList<>();
    loadCas();
    preflight();
    for (CaConfig ca : config.cas()) {
      if (issuers.containsKey(ca.name())) {
        existing.add("ca " + ca.name());
        continue;
      }
      createCa(ca);
      created.add("ca " + ca.name());
      loadCas();
    }
    Profile ocspProfile = config.profiles().get("ocsp-signer");
    for (CaConfig ca : config.cas()) {
      String name = "ocsp-" + ca.name();
      if (serviceCurrent(name) || revokedCas.contains(ca.name())) {
        existing.add("service " + name);
        continue;
      }
      Issuer issuer = issuer(ca.name());
      KeySpec spec = ca.key() == KeySpec.SM2 ? KeySpec.SM2 : KeySpec.EC_P256;
      createService("ca-init", name, ocspProfile, issuer, spec, "Yinxin OCSP " + ca.name());
      created.add("service " + name);
    }
    for (HierarchyConfig.ServiceCert s : config.services()) {
      if (serviceCurrent(s.name()) || serviceIssuerRevoked(s)) {
        existing.add("service " + s.name());
        continue;
      }
      Profile p = config.profiles().get(s.profile());
      createService("ca-init", s.name(), p, issuer(p.issuer()), s.key(), cn(s.subject()));
      created.add("service " + s.name());
    }
    loadServices();
    log.info("event=ca_init created={} existing={}", created.size(), existing.size());
    return new InitReport(created, existing);
  }

  /**
   * What {@link #init} would create now: {@code ca NAME} and {@code service NAME} entries (a dry
   * run of it).
   */
  public List<String> missing() {
    List<String> out = new ArrayList<>();
    for (CaConfig ca : config.cas()) {
      if (!issuers.containsKey(ca.name())) {
        out.add("ca " + ca.name());
      }
    }
    for (CaConfig ca : config.cas()) {
      if (!revokedCas.contains(ca.name()) && !serviceCurrent("ocsp-" + ca.name())) {
        out.add("service ocsp-" + ca.name());
      }
    }
    for (HierarchyConfig.ServiceCert s : config.services()) {
      if (!serviceCurrent(s.name()) && !serviceIssuerRevoked(s)) {
        out.add("service " + s.name());
      }
    }
    return out;
  }

  /** The parent CA's name, empty for a root. */
  public Optional<String> parent(String ca) {
    issuer(ca);
    return Optional.ofNullable(parents.get(ca));
  }

  /** Whether a CA's own certificate is revoked or on hold (as this node last heard). */
  public boolean revoked(String ca) {
    return revokedCas.contains(ca);
  }

  /**
   * A CA that may issue now: one whose own certificate is not revoked or on hold.
   *
   * @throws CaException {@code NOT_FOUND}, or {@code CONFLICT} for a CA whose certificate is
   *     revoked
   */
  public Issuer issuingCa(String name) {
    Issuer i = issuer(name);
    if (revokedCas.contains(name)) {
      throw new CaException(
          CaException.Code.CONFLICT,
          "CA "
              + name
              + " has a revoked certificate and issues nothing (see the emergency runbook)");
    }
    return i;
  }

  /**
   * Hears of a certificate's new status (this node's revocations and other nodes', from the status
   * feed): when it is a CA's own certificate, that CA stops or resumes issuing.
   */
  public void certificateChanged(String issuer, String serial, CertificateRecord.Status status) {
    for (Issuer i : issuers.values()) {
      if (issuer.equals(parents.get(i.name()))
          && serial.equals(i.certificate().getSerialNumber().toString(16))) {
        if (status == CertificateRecord.Status.VALID) {
          revokedCas.remove(i.name());
        } else if (revokedCas.add(i.name())) {
          log.warn("event=ca_certificate_revoked ca={} status={}", i.name(), status);
        }
      }
    }
    Issuer by = issuers.get(issuer);
    if (by != null && status != CertificateRecord.Status.VALID) {
      for (ServiceKey s : services.values()) {
        if (serial.equals(s.certificate().getSerialNumber().toString(16))
            && by.subject().equals(s.certificate().getIssuer())) {
          // a service certificate revoked: its replacement is stored already (see replaceService)
          log.warn("event=service_certificate_revoked name={}", s.name());
          loadServices();
          break;
        }
      }
    }
  }

  /**
   * Replaces a service certificate now, whatever its state (the emergency procedure for a
   * compromised service key): a new key in the backend, a new certificate from the same CA, and
   * this node signs with it at once; other nodes switch when they hear that the old certificate is
   * revoked, so revoke it after this returns.
   *
   * @throws CaException {@code NOT_FOUND} for a service the configuration does not name, {@code
   *     CONFLICT} when its CA's own certificate is revoked
   */
  public synchronized ServiceKey replaceService(String actor, String name) {
    if (name.startsWith("ocsp-") && config.ca(name.substring(5)).isPresent()) {
      CaConfig ca = config.ca(name.substring(5)).get();
      Issuer issuer = issuingCa(ca.name());
      KeySpec spec = ca.key() == KeySpec.SM2 ? KeySpec.SM2 : KeySpec.EC_P256;
      createService(
          actor,
          name,
          config.profiles().get("ocsp-signer"),
          issuer,
          spec,
          "Yinxin OCSP " + ca.name());
    } else {
      HierarchyConfig.ServiceCert s =
          config.services().stream()
              .filter(x -> x.name().equals(name))
              .findFirst()
              .orElseThrow(
                  () -> new CaException(CaException.Code.NOT_FOUND, "no service " + safe(name)));
      Profile p = config.profiles().get(s.profile());
      createService(actor, s.name(), p, issuingCa(p.issuer()), s.key(), cn(s.subject()));
    }
    loadServices();
    log.warn("event=service_certificate_replaced name={}", name);
    return services.get(name);
  }

  private boolean serviceIssuerRevoked(HierarchyConfig.ServiceCert s) {
    Profile p = config.profiles().get(s.profile());
    return p != null && revokedCas.contains(p.issuer());
  }

  /** An issuing CA by name. */
  public Issuer issuer(String name) {
    Issuer i = issuers.get(name);
    if (i == null) {
      throw new CaException(CaException.Code.NOT_FOUND, "no CA named " + safe(name));
    }
    return i;
  }

  public Optional<Issuer> findIssuer(String name) {
    return Optional.ofNullable(issuers.get(name));
  }

  /** Every CA, parents before children. */
  public List<Issuer> issuers() {
    List<Issuer> out = new ArrayList<>();
    for (CaConfig c : config.cas()) {
      Issuer i = issuers.get(c.name());
      if (i != null) {
        out.add(i);
      }
    }
    return out;
  }

  /** The chain from a CA up to its root, the CA first. */
  public List<Issuer> chain(String ca) {
    List<Issuer> out = new ArrayList<>();
    Issuer cur = issuer(ca);
    out.add(cur);
    Optional<String> parent = config.ca(ca).flatMap(CaConfig::parent);
    while (parent.isPresent()) {
      cur = issuer(parent.get());
      out.add(cur);
      parent = config.ca(cur.name()).flatMap(CaConfig::parent);
    }
    return out;
  }

  /** A service key by name ({@code ocsp-citizen}, {@code tsa}). */
  public Optional<ServiceKey> service(String name) {
    return Optional.ofNullable(services.get(name));
  }

  /**
   * Renews every delegated OCSP signer and service certificate (TSA) that has less than {@code
   * renewBefore} left or was revoked: a new key in the backend, a new certificate, then this node
   * switches to it; other nodes pick it up at their next call. Of several nodes calling at once,
   * one renews (it claims the renewal in the database, by the database's clock); a claim left by a
   * node that died lapses after ten minutes. Call about once an hour on every node.
   *
   * @return the services renewed by this call
   */
  public synchronized List<String> renewServices(Duration renewBefore) {
    List<String> renewed = new ArrayList<>();
    Profile ocspProfile = config.profiles().get("ocsp-signer");
    for (CaConfig ca : config.cas()) {
      String name = "ocsp-" + ca.name();
      if (!revokedCas.contains(ca.name()) && dueForRenewal(name, renewBefore)) {
        KeySpec spec = ca.key() == KeySpec.SM2 ? KeySpec.SM2 : KeySpec.EC_P256;
        createService(
            "ca-renewal", name, ocspProfile, issuer(ca.name()), spec, "Yinxin OCSP " + ca.name());
        renewed.add(name);
      }
    }
    for (HierarchyConfig.ServiceCert s : config.services()) {
      if (!serviceIssuerRevoked(s) && dueForRenewal(s.name(), renewBefore)) {
        Profile p = config.profiles().get(s.profile());
        createService("ca-renewal", s.name(), p, issuer(p.issuer()), s.key(), cn(s.subject()));
        renewed.add(s.name());
      }
    }
    loadServices();
    for (String n : renewed) {
      log.info("event=service_certificate_renewed name={}", n);
    }
    return renewed;
  }

  /** {@link #renewServices(Duration)} with the default margin of 30 days. */
  public List<String> renewServices() {
    return renewServices(RENEW_BEFORE);
  }

  /** Whether a service needs a new certificate and this node has claimed the renewal. */
  private boolean dueForRenewal(String name, Duration renewBefore) {
    Optional<ServiceRecord> s = store.authorities().service(name);
    if (s.isEmpty()) {
      return false; // init creates what is missing
    }
    Optional<CertificateRecord> cert =
        store.certificates().certificate(s.get().issuer(), s.get().serial());
    boolean current =
        cert.isPresent()
            && cert.get().status() == CertificateRecord.Status.VALID
            && cert.get().notAfter().isAfter(Instant.now().plus(renewBefore));
    return !current && store.authorities().claimServiceRenewal(name, s.get().serial());
  }

  /** Loads the CAs that exist, creating nothing. */
  public void load() {
    loadCas();
    loadServices();
  }

  /** Reads the status of every CA's own certificate. */
  private void loadCaStatus() {
    for (Issuer i : issuers.values()) {
      String parent = parents.get(i.name());
      if (parent != null) {
        String serial = i.certificate().getSerialNumber().toString(16);
        store
            .certificates()
            .certificate(parent, serial)
            .ifPresent(r -> certificateChanged(parent, serial, r.status()));
      }
    }
  }

  private void loadCas() {
    for (AuthorityRecord a : store.authorities().authorities()) {
      a.parent().ifPresent(p -> parents.put(a.name(), p));
      try {
        issuers.put(
            a.name(),
            new Issuer(
                a.name(),
                new X509CertificateHolder(a.certificate()),
                KeyRef.parse(a.keyRef()),
                SignatureAlgorithm.valueOf(a.signatureAlgorithm())));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    loadCaStatus();
  }

  private void loadServices() {
    List<String> names = new ArrayList<>();
    for (CaConfig ca : config.cas()) {
      names.add("ocsp-" + ca.name());
    }
    config.services().forEach(s -> names.add(s.name()));
    for (String n : names) {
      store
          .authorities()
          .service(n)
          .ifPresent(
              s -> {
                CertificateRecord cert =
                    store
                        .certificates()
                        .certificate(s.issuer(), s.serial())
                        .orElseThrow(() -> new IllegalStateException("service " + n + " lost"));
                try {
                  services.put(
                      n,
                      new ServiceKey(
                          n,
                          new X509CertificateHolder(cert.der()),
                          KeyRef.parse(s.keyRef()),
                          SignatureAlgorithm.valueOf(s.signatureAlgorithm())));
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }

  private boolean serviceCurrent(String name) {
    Optional<ServiceRecord> s = store.authorities().service(name);
    if (s.isEmpty()) {
      return false;
    }
    Optional<CertificateRecord> cert =
        store.certificates().certificate(s.get().issuer(), s.get().serial());
    return cert.isPresent()
        && cert.get().status() == CertificateRecord.Status.VALID
        && cert.get().notAfter().isAfter(Instant.now().plus(RENEW_BEFORE));
  }

  /**
   * Checks, before anything is created, that every key backend the missing CAs and service
   * certificates need is configured and up; otherwise says which, for what, and what to set. A
   * half-created hierarchy (CAs in the HSM, the rest refused) is what this prevents.
   */
  private void preflight() {
    java.util.Map<KeyRef.Scheme, List<String>> needs = new java.util.LinkedHashMap<>();
    for (CaConfig ca : config.cas()) {
      KeyRef.Scheme ocspScheme = ca.key() == KeySpec.SM2 ? KeyRef.Scheme.SOFT : caKeyScheme;
      if (!issuers.containsKey(ca.name())) {
        needs.computeIfAbsent(ocspScheme, k -> new ArrayList<>()).add("CA " + ca.name());
      }
      if (!serviceCurrent("ocsp-" + ca.name())) {
        needs.computeIfAbsent(ocspScheme, k -> new ArrayList<>()).add("ocsp-" + ca.name());
      }
    }
    for (HierarchyConfig.ServiceCert svc : config.services()) {
      if (!serviceCurrent(svc.name())) {
        needs
            .computeIfAbsent(
                svc.key() == KeySpec.SM2 ? KeyRef.Scheme.SOFT : caKeyScheme, k -> new ArrayList<>())
            .add(svc.name());
      }
    }
    if (needs.isEmpty()) {
      return;
    }
    java.util.Map<String, String> backends = keys.health().backends();
    List<String> problems = new ArrayList<>();
    for (var e : needs.entrySet()) {
      String scheme = e.getKey().uriScheme();
      String status = backends.get(scheme);
      String what = String.join(", ", e.getValue());
      if (status == null) {
        problems.add(
            "the "
                + scheme
                + " key backend is not configured, but "
                + what
                + " need it ("
                + switch (e.getKey()) {
                  case SOFT ->
                      "SM2 keys are software keys only: set yinxin.keys.soft.enabled=true and,"
                          + " under prod, yinxin.keys.soft.allow-in-production=true, or leave"
                          + " the SM2 CAs out of yinxin.ca.hierarchy-file";
                  case PKCS11 -> "set yinxin.keys.pkcs11.library";
                  case VAULT_TRANSIT -> "set yinxin.keys.vault.address";
                }
                + ")");
      } else if (!status.startsWith("UP")) {
        problems.add("the " + scheme + " key backend is " + status + ", but " + what + " need it");
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException("nothing was created: " + String.join("; ", problems));
    }
  }

  private void createCa(CaConfig ca) {
    KeyRef.Scheme scheme = ca.key() == KeySpec.SM2 ? KeyRef.Scheme.SOFT : caKeyScheme;
    KeyInfo key = keyFor(scheme, ca.key(), "ca-" + ca.name());
    SignatureAlgorithm alg = ca.key().defaultAlgorithm();
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(key.publicKey().getEncoded());
    X500Name subject = new X500Name(BCStyle.INSTANCE, ca.subject());
    Optional<Issuer> parent = ca.parent().map(this::issuer);
    X509CertificateHolder cert =
        CertificateFactory.caCertificate(
            subject,
            spki,
            ca.validityDays(),
            ca.pathLength(),
            ca.policies(),
            ca.extendedKeyUsage(),
            parent,
            parent
                .map(p -> p.signer(keys, "ca-cert:" + ca.name()))
                .orElseGet(
                    () ->
                        new io.yinxin.hsm.bridge.KeyServiceContentSigner(
                            keys, key.ref(), alg, "ca-cert:" + ca.name())),
            urls,
            Instant.now());
    String issuerName = parent.map(Issuer::name).orElse(ca.name());
    CertificateRecord row = CertificateRecord.issued(issuerName, "ca", cert, sha256(spki), 0);
    // The CA row and its evidence commit together; the receipt is awaited after the commit.
    Optional<AuditOutbox.Pending> evidence =
        store.inTransaction(
            c ->
                store
                        .authorities()
                        .insertAuthority(
                            c,
                            new AuthorityRecord(
                                ca.name(),
                                ca.parent(),
                                key.ref().toString(),
                                alg.name(),
                                encoded(cert)),
                            row)
                    ? Optional.of(
                        audit.record(
                            c,
                            issuedEvent(
                                "ca-init", issuerName, row, Map.of("ca", ca.name(), "kind", "ca"))))
                    : Optional.empty());
    evidence.ifPresent(audit::await);
    log.info("event=ca_created ca={} key={} alg={}", ca.name(), key.ref(), alg);
  }

  private void createService(
      String actor, String name, Profile profile, Issuer issuer, KeySpec spec, String commonName) {
    KeyRef.Scheme scheme = spec == KeySpec.SM2 ? KeyRef.Scheme.SOFT : caKeyScheme;
    // Always a new key (init, renewal, replacing a compromised key). Until 2026-12-07 a key whose
    // label (the service and the second) was taken was reused, so a replacement made in the same
    // second as the certificate it replaced certified the compromised key again.
    KeyInfo key =
        keys.generate(
            scheme,
            spec,
            keys.freeLabel(
                scheme,
                name
                    + "-"
                    + DateTimeFormatter.ofPattern("yyyyMMddHHmmss")
                        .withZone(ZoneOffset.UTC)
                        .format(Instant.now())));
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(key.publicKey().getEncoded());
    KeyPolicy.check(profile, spki);
    Names.Checked names = Names.build(profile, Map.of("name", commonName), List.of(), List.of());
    X509CertificateHolder cert =
        CertificateFactory.endEntity(
            profile,
            issuer,
            CertificateFactory.newSerial(),
            names,
            spki,
            0,
            urls,
            Instant.now(),
            issuer.signer(keys, "cert:" + name));
    CertificateRecord row =
        CertificateRecord.issued(issuer.name(), profile.name(), cert, sha256(spki), 0);
    AuditOutbox.Pending evidence =
        store.inTransaction(
            c -> {
              store
                  .authorities()
                  .putService(
                      c,
                      new ServiceRecord(
                          name,
                          issuer.name(),
                          row.serial(),
                          key.ref().toString(),
                          spec.defaultAlgorithm().name()),
                      row);
              return audit.record(
                  c,
                  issuedEvent(
                      actor, issuer.name(), row, Map.of("service", name, "kind", "service")));
            });
    audit.await(evidence);
    log.info("event=service_certificate_issued name={} issuer={}", name, issuer.name());
  }

  /** A key by label: reused if an earlier, interrupted init created it, else generated. */
  private KeyInfo keyFor(KeyRef.Scheme scheme, KeySpec spec, String label) {
    KeyRef ref =
        scheme == KeyRef.Scheme.SOFT
            ? KeyRef.soft(label)
            : scheme == KeyRef.Scheme.VAULT_TRANSIT ? KeyRef.vault(label) : null;
    if (ref != null) {
      try {
        KeyInfo existing = keys.describe(ref);
        if (existing.spec() == spec) {
          return existing;
        }
      } catch (KeyException e) {
        if (e.code() != KeyException.Code.KEY_NOT_FOUND) {
          throw e;
        }
      }
    } else {
      for (KeyInfo k : keys.list()) {
        if (k.ref().scheme() == scheme && k.ref().label().equals(label) && k.spec() == spec) {
          return k;
        }
      }
    }
    return keys.generate(scheme, spec, label);
  }

  /** The CERT_ISSUED audit event for a stored certificate row. */
  public static AuditEvent issuedEvent(
      String actor, String issuer, CertificateRecord row, Map<String, String> extra) {
    Map<String, String> attrs = new LinkedHashMap<>(extra);
    attrs.put("profile", row.profile());
    attrs.put("notAfter", row.notAfter().toString());
    attrs.put("subject", row.subject());
    return new AuditEvent(
        EventType.CERT_ISSUED,
        actor,
        issuer + "/" + row.serial(),
        row.issuedAt(),
        attrs,
        Optional.of("sha256:" + hex(sha256Bytes(row.der()))));
  }

  static String cn(String dn) {
    X500Name n = new X500Name(BCStyle.INSTANCE, dn);
    var rdns = n.getRDNs(BCStyle.CN);
    if (rdns.length == 0) {
      throw new IllegalArgumentException("subject " + dn + " has no CN");
    }
    return rdns[0].getFirst().getValue().toString();
  }

  private static byte[] encoded(X509CertificateHolder c) {
    try {
      return c.getEncoded();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] sha256(SubjectPublicKeyInfo spki) {
    try {
      return sha256Bytes(spki.getEncoded());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] sha256Bytes(byte[] b) {
    return io.yinxin.ca.Sha256.digest(b);
  }

  static String hex(byte[] b) {
    return io.yinxin.ca.Sha256.hex(b);
  }

  static String safe(String s) {
    return s != null && s.matches("[a-z0-9-]{1,64}") ? s : "?";
  }
}
