package io.yinxin.ca.acme;

import io.yinxin.ca.CaException;
import io.yinxin.ca.Pem;
import io.yinxin.ca.acme.AcmeService.AcmeSettings;
import io.yinxin.ca.acme.AcmeService.Reply;
import io.yinxin.ca.acme.AcmeStore.Account;
import io.yinxin.ca.acme.AcmeStore.Authz;
import io.yinxin.ca.acme.AcmeStore.Order;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.issue.Csr;
import io.yinxin.ca.issue.IssuanceService;
import io.yinxin.ca.issue.Issuer;
import io.yinxin.ca.issue.Names;
import io.yinxin.ca.profile.Profile;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** ACME orders (RFC 8555 §7.4): creation under the name policy, status, finalize, download. */
final class AcmeOrders {
  private static final Logger log = LoggerFactory.getLogger(AcmeOrders.class);
  static final Duration LIFETIME = Duration.ofDays(7);

  private final AcmeStore store;
  private final CaStore caStore;
  private final Hierarchy hierarchy;
  private final IssuanceService issuance;
  private final AcmeSettings settings;
  private final AcmeViews views;
  private final AcmeRateLimits limits;
  private final AcmeRenewals renewals;

  AcmeOrders(
      AcmeStore store,
      CaStore caStore,
      Hierarchy hierarchy,
      IssuanceService issuance,
      AcmeSettings settings,
      AcmeViews views,
      AcmeRateLimits limits,
      AcmeRenewals renewals) {
    this.store = store;
    this.caStore = caStore;
    this.hierarchy = hierarchy;
    this.issuance = issuance;
    this.settings = settings;
    this.views = views;
    this.limits = limits;
    this.renewals = renewals;
  }

  Reply create(Account acct, AcmeJws jws) {
    Map<String, Object> p = jws.json();
    if (p.containsKey("notBefore") || p.containsKey("notAfter")) {
      throw AcmeProblem.malformed(
          "notBefore and notAfter are not supported; the profile sets validity");
    }
    if (!(p.get("identifiers") instanceof List<?> ids) || ids.isEmpty() || ids.size() > 100) {
      throw AcmeProblem.malformed("identifiers: 1-100 objects {type, value}");
    }
    TreeSet<String> names = new TreeSet<>();
    for (Object o : ids) {
      if (!(o instanceof Map<?, ?> m)
          || !"dns".equals(m.get("type"))
          || !(m.get("value") instanceof String v)) {
        throw new AcmeProblem("unsupportedIdentifier", 400, "only dns identifiers are supported");
      }
      names.add(allowed(v));
    }
    Optional<AcmeRenewals.Replacing> replacing =
        p.containsKey("replaces")
            ? Optional.of(renewals.replacing(acct, p.get("replaces"), names))
            : Optional.empty();
    // A renewal in its certificate's suggested window (RFC 9773) does not count against the
    // account's new orders: the server asked for it.
    if (replacing.isEmpty() || !replacing.get().inWindow()) {
      limits.newOrder(acct.id());
    }
    Instant expires = Instant.now().plus(LIFETIME).truncatedTo(ChronoUnit.SECONDS);
    String orderId = AcmeViews.newId();
    List<Authz> authzs = new ArrayList<>();
    for (String n : names) {
      authzs.add(
          new Authz(
              AcmeViews.newId(),
              orderId,
              acct.id(),
              n,
              "pending",
              AcmeViews.token(),
              "pending",
              Optional.empty(),
              Optional.empty(),
              expires));
    }
    Order o =
        new Order(
            orderId,
            acct.id(),
            "pending",
            List.copyOf(names),
            expires,
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            replacing.map(AcmeRenewals.Replacing::certId));
    store.insertOrder(o, authzs, replacing);
    log.info(
        "event=acme_order_created account={} order={} names={}", acct.id(), orderId, names.size());
    return reply(acct, orderId, 201);
  }

  /** Checks a requested name against the policy; returns it normalised. */
  private String allowed(String raw) {
    String d;
    try {
      d = Names.dnsName(raw);
    } catch (CaException e) {
      throw new AcmeProblem("rejectedIdentifier", 400, "not a valid DNS name: " + e.getMessage());
    }
    boolean ok =
        (settings.allowLocalhost() && d.endsWith(".localhost"))
            || settings.allowedDomains().stream().anyMatch(a -> d.equals(a) || d.endsWith("." + a));
    if (!ok) {
      throw new AcmeProblem(
          "rejectedIdentifier", 400, "this CA does not issue for " + d + " (policy)");
    }
    return d;
  }

  Reply reply(Account acct, String id, int status) {
    Order o = refresh(own(acct, id));
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("status", o.status());
    v.put("expires", o.expires().toString());
    List<Object> ids = new ArrayList<>();
    for (String n : o.identifiers()) {
      ids.add(Map.of("type", "dns", "value", n));
    }
    v.put("identifiers", ids);
    List<Object> az = new ArrayList<>();
    for (Authz a : store.authzsOfOrder(o.id())) {
      az.add(views.authzUrl(a.id()));
    }
    v.put("authorizations", az);
    v.put("finalize", views.orderUrl(o.id()) + "/finalize");
    o.error().ifPresent(e -> v.put("error", AcmeViews.problem("unauthorized", e)));
    if (o.certSerial().isPresent()) {
      v.put("certificate", views.base() + "/cert/" + o.id());
    }
    o.replaces().ifPresent(r -> v.put("replaces", r));
    return AcmeViews.json(status, Optional.of(views.orderUrl(o.id())), List.of(), v);
  }

  /** Moves a pending order to ready or invalid from its authorizations. */
  private Order refresh(Order o) {
    if (!o.status().equals("pending")) {
      return o;
    }
    List<Authz> az = store.authzsOfOrder(o.id());
    if (az.stream().anyMatch(a -> a.status().equals("invalid"))) {
      String why =
          az.stream().flatMap(a -> a.error().stream()).findFirst().orElse("authorization failed");
      store.transitionOrder(o.id(), "pending", "invalid", why);
    } else if (Instant.now().isAfter(o.expires())) {
      store.transitionOrder(o.id(), "pending", "invalid", "the order expired");
    } else if (az.stream().allMatch(a -> a.status().equals("valid"))) {
      store.transitionOrder(o.id(), "pending", "ready", null);
    }
    return store.order(o.id()).orElseThrow();
  }

  private Order own(Account acct, String id) {
    Order o = store.order(id).orElseThrow(() -> AcmeProblem.notFound("no such order"));
    if (!o.accountId().equals(acct.id())) {
      throw AcmeProblem.unauthorized("this order belongs to another account");
    }
    return o;
  }

  Reply finalize(Account acct, String id, AcmeJws jws) {
    Order o = refresh(own(acct, id));
    if (!o.status().equals("ready")) {
      throw new AcmeProblem("orderNotReady", 403, "the order is " + o.status() + ", not ready");
    }
    Object csrField = jws.json().get("csr");
    if (!(csrField instanceof String csrB64) || csrB64.length() > Csr.MAX_BYTES * 4 / 3 + 4) {
      throw new AcmeProblem("badCSR", 400, "csr must be base64url DER of at most 64 KiB");
    }
    byte[] der;
    try {
      der = Base64.getUrlDecoder().decode(csrB64);
    } catch (IllegalArgumentException e) {
      throw new AcmeProblem("badCSR", 400, "csr is not base64url");
    }
    List<String> requested;
    try {
      Csr.parseDer(der);
      requested = csrNames(der);
    } catch (CaException e) {
      throw new AcmeProblem("badCSR", 400, e.getMessage());
    }
    if (!new TreeSet<>(requested).equals(new TreeSet<>(o.identifiers()))) {
      throw new AcmeProblem(
          "badCSR", 400, "the CSR's names must be exactly the order's identifiers");
    }
    if (!store.transitionOrder(o.id(), "ready", "processing", null)) {
      throw new AcmeProblem("orderNotReady", 403, "the order is being finalized already");
    }
    try {
      List<String> dns = new ArrayList<>(o.identifiers());
      // The CSR's first name becomes the subject CN when it is one of the order's names.
      if (!requested.isEmpty() && dns.remove(requested.get(0))) {
        dns.add(0, requested.get(0));
      }
      IssuanceService.Issued issued =
          issuance.issue(
              "acme:" + acct.id(),
              Profile.Channel.ACME,
              new IssuanceService.IssueRequest(
                  settings.profile(),
                  Pem.encode("CERTIFICATE REQUEST", der),
                  Map.of(),
                  dns,
                  List.of()));
      store.orderIssued(o.id(), issued.record().issuer(), issued.record().serial());
    } catch (CaException e) {
      // RFC 8555 §7.4: a CSR the CA refuses (its key, its names) is the client's to correct; the
      // order stays ready for another CSR.
      store.transitionOrder(o.id(), "processing", "ready", null);
      throw new AcmeProblem("badCSR", 400, e.getMessage());
    } catch (RuntimeException e) {
      store.transitionOrder(o.id(), "processing", "ready", null);
      throw new AcmeProblem("serverInternal", 500, "issuance failed; try finalize again");
    }
    return reply(acct, o.id(), 200);
  }

  /** The DNS names a CSR asks for: its CN and its SAN dNSNames, CN first. */
  static List<String> csrNames(byte[] der) {
    try {
      PKCS10CertificationRequest req = new PKCS10CertificationRequest(der);
      List<String> names = new ArrayList<>();
      for (var rdn : req.getSubject().getRDNs(BCStyle.CN)) {
        names.add(rdn.getFirst().getValue().toString().toLowerCase(Locale.ROOT));
      }
      for (var attr : req.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
        for (ASN1Encodable v : attr.getAttributeValues()) {
          Extensions exts = Extensions.getInstance(v);
          GeneralNames gns = GeneralNames.fromExtensions(exts, Extension.subjectAlternativeName);
          if (gns == null) {
            continue;
          }
          for (GeneralName gn : gns.getNames()) {
            if (gn.getTagNo() != GeneralName.dNSName) {
              throw new CaException(
                  CaException.Code.INVALID_REQUEST, "csr", "only DNS names may be requested");
            }
            String n = gn.getName().toString().toLowerCase(Locale.ROOT);
            if (!names.contains(n)) {
              names.add(n);
            }
          }
        }
      }
      return names;
    } catch (java.io.IOException | RuntimeException e) {
      if (e instanceof CaException ce) {
        throw ce;
      }
      throw new CaException(CaException.Code.BAD_CSR, "csr", "the CSR's names do not parse");
    }
  }

  /** The issued certificate with the chain up to (not including) the root. */
  Reply certificate(Account acct, String orderId) {
    Order o = own(acct, orderId);
    if (o.certSerial().isEmpty()) {
      throw AcmeProblem.notFound("no certificate for this order yet");
    }
    CertificateRecord r =
        caStore
            .certificates()
            .certificate(o.certIssuer().orElseThrow(), o.certSerial().get())
            .orElseThrow(() -> AcmeProblem.notFound("certificate not found"));
    StringBuilder pem = new StringBuilder(Pem.certificate(r.der()));
    for (Issuer i : hierarchy.chain(r.issuer())) {
      if (hierarchy.config().ca(i.name()).map(c -> !c.isRoot()).orElse(false)) {
        pem.append(Pem.certificate(i.encoded()));
      }
    }
    return new Reply(
        200,
        Optional.empty(),
        List.of(),
        pem.toString().getBytes(StandardCharsets.US_ASCII),
        "application/pem-certificate-chain");
  }
}
