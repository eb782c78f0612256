package io.yinxin.ca.acme;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import io.yinxin.ca.CaException;
import io.yinxin.ca.acme.AcmeStore.Account;
import io.yinxin.ca.acme.AcmeStore.Authz;
import io.yinxin.ca.acme.AcmeStore.Order;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.issue.Csr;
import io.yinxin.ca.issue.IssuanceService;
import io.yinxin.ca.issue.Issuer;
import io.yinxin.ca.issue.Names;
import io.yinxin.ca.revoke.RevocationReason;
import io.yinxin.ca.revoke.RevocationService;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import io.yinxin.hsm.Randomness;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An RFC 8555 ACME server for TLS server certificates: accounts, orders, http-01 authorizations,
 * finalize, download, revocation. Every request is a JWS checked for nonce, URL and signature
 * before anything else happens.
 */
public final class AcmeService {
  private static final Logger log = LoggerFactory.getLogger(AcmeService.class);
  static final Duration NONCE_LIFETIME = Duration.ofHours(1);
  static final Duration ORDER_LIFETIME = Duration.ofDays(7);

  private final AcmeStore store;
  private final CaStore caStore;
  private final Hierarchy hierarchy;
  private final IssuanceService issuance;
  private final RevocationService revocation;
  private final Http01Validator validator;
  private final ExecutorService validations;
  private final AcmeSettings settings;

  /**
   * What the ACME server allows.
   *
   * @param profile the profile certificates are issued under (server-tls)
   * @param allowLocalhost accept names under .localhost (RFC 6761), validated on loopback; for the
   *     embedded default only
   * @param allowedDomains other names must equal one of these or end with "." + one
   * @param http01Port the port http-01 challenges are fetched from (80 in RFC 8555)
   */
  public record AcmeSettings(
      String profile, boolean allowLocalhost, List<String> allowedDomains, int http01Port) {
    public AcmeSettings {
      allowedDomains = List.copyOf(allowedDomains);
    }
  }

  /** An HTTP answer: status, Location, Link headers, body and its type. */
  public record Reply(
      int status, Optional<String> location, List<String> links, byte[] body, String contentType) {}

  public AcmeService(
      CaStore caStore,
      Hierarchy hierarchy,
      IssuanceService issuance,
      RevocationService revocation,
      AcmeSettings settings,
      ExecutorService validations) {
    this.store = new AcmeStore(caStore);
    this.caStore = caStore;
    this.hierarchy = hierarchy;
    this.issuance = issuance;
    this.revocation = revocation;
    this.settings = settings;
    this.validator = new Http01Validator(settings.http01Port(), settings.allowLocalhost());
    this.validations = validations;
    issuance.profile(settings.profile(), io.yinxin.ca.profile.Profile.Channel.ACME);
  }

  String base() {
    return hierarchy.urls().base() + "/acme";
  }

  /** The directory (RFC 8555 §7.1.1). */
  public Reply directory() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("newNonce", base() + "/new-nonce");
    d.put("newAccount", base() + "/new-account");
    d.put("newOrder", base() + "/new-order");
    d.put("revokeCert", base() + "/revoke-cert");
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("website", hierarchy.urls().base() + "/ca/v1/cas");
    meta.put("externalAccountRequired", false);
    d.put("meta", meta);
    return json(200, Optional.empty(), List.of(), d);
  }

  /** A fresh nonce, stored so that any node can accept it once. */
  public String newNonce() {
    byte[] b = new byte[16];
    Randomness.current().nextBytes(b);
    String n = Base64URL.encode(b).toString();
    store.putNonce(n, Instant.now().plus(NONCE_LIFETIME));
    return n;
  }

  /**
   * Expired nonces out, and orders or challenges a dead process left half done back; call now and
   * then.
   */
  public void purge() {
    store.purgeNonces();
    int recovered = store.recoverInterrupted(Instant.now().minus(Duration.ofMinutes(5)));
    if (recovered > 0) {
      log.warn("event=acme_interrupted_recovered count={}", recovered);
    }
  }

  /**
   * Handles one POST: parses and checks the JWS (nonce, url, signature, account), then dispatches.
   *
   * @param path the request path after {@code /acme}
   */
  public Reply post(String path, byte[] body) {
    AcmeJws jws = AcmeJws.parse(body);
    if (!store.useNonce(jws.nonce())) {
      throw new AcmeProblem("badNonce", 400, "the nonce is unknown, used or expired");
    }
    if (!jws.url().equals(base() + path)) {
      throw AcmeProblem.unauthorized("the JWS url does not match the request URL");
    }
    if (path.equals("/new-account")) {
      return newAccount(jws);
    }
    if (path.equals("/revoke-cert")) {
      return revokeCert(jws);
    }
    Account acct = account(jws);
    String[] parts = path.split("/");
    // "", kind, id[, action]
    if (path.equals("/new-order")) {
      return newOrder(acct, jws);
    }
    if (parts.length >= 3) {
      String id = parts[2];
      switch (parts[1]) {
        case "acct":
          if (parts.length == 4 && parts[3].equals("orders")) {
            return ordersOf(acct, id);
          }
          return updateAccount(acct, id, jws);
        case "order":
          if (parts.length == 4 && parts[3].equals("finalize")) {
            return finalizeOrder(acct, id, jws);
          }
          return orderReply(acct, id, 200);
        case "authz":
          return authzReply(acct, id);
        case "chall":
          return challenge(acct, id, jws);
        case "cert":
          return certificate(acct, id);
        default:
          break;
      }
    }
    throw AcmeProblem.notFound("no such ACME resource");
  }

  // ---- accounts

  private Reply newAccount(AcmeJws jws) {
    JWK jwk = jws.jwk().orElseThrow(() -> AcmeProblem.malformed("newAccount is signed with a jwk"));
    jws.verify(jwk);
    Map<String, Object> p = jws.json();
    String thumb = AcmeJws.thumbprint(jwk);
    Optional<Account> existing = store.accountByThumbprint(thumb);
    if (existing.isPresent()) {
      return json(
          200, Optional.of(accountUrl(existing.get().id())), List.of(), view(existing.get()));
    }
    if (Boolean.TRUE.equals(p.get("onlyReturnExisting"))) {
      throw new AcmeProblem("accountDoesNotExist", 400, "no account for this key");
    }
    String contact = contact(p.get("contact"));
    Account a = new Account(newId(), thumb, jwk.toPublicJWK().toJSONString(), "valid", contact);
    store.insertAccount(a);
    log.info("event=acme_account_created account={}", a.id());
    return json(201, Optional.of(accountUrl(a.id())), List.of(), view(a));
  }

  private Reply updateAccount(Account acct, String id, AcmeJws jws) {
    if (!acct.id().equals(id)) {
      throw AcmeProblem.unauthorized("this is not your account");
    }
    Map<String, Object> p = jws.json();
    String status = acct.status();
    String contact = acct.contact();
    if (p.containsKey("contact")) {
      contact = contact(p.get("contact"));
    }
    if ("deactivated".equals(p.get("status"))) {
      status = "deactivated";
    } else if (p.containsKey("status")) {
      throw AcmeProblem.malformed("an account can only be set to deactivated");
    }
    store.updateAccount(id, status, contact);
    return json(
        200,
        Optional.of(accountUrl(id)),
        List.of(),
        view(new Account(id, acct.thumbprint(), acct.jwk(), status, contact)));
  }

  /** The account's orders list (RFC 8555 §7.1.2.1), newest first, at most 1000. */
  private Reply ordersOf(Account acct, String id) {
    if (!acct.id().equals(id)) {
      throw AcmeProblem.unauthorized("this is not your account");
    }
    List<Object> urls = new ArrayList<>();
    for (String o : store.orderIdsOf(id)) {
      urls.add(base() + "/order/" + o);
    }
    return json(200, Optional.empty(), List.of(), Map.of("orders", urls));
  }

  private Account account(AcmeJws jws) {
    String kid =
        jws.kid().orElseThrow(() -> AcmeProblem.malformed("this request is signed with a kid"));
    if (!kid.startsWith(base() + "/acct/")) {
      throw new AcmeProblem("accountDoesNotExist", 400, "kid is not an account URL of this server");
    }
    Account a =
        store
            .account(kid.substring((base() + "/acct/").length()))
            .orElseThrow(() -> new AcmeProblem("accountDoesNotExist", 400, "no such account"));
    try {
      jws.verify(JWK.parse(a.jwk()));
    } catch (ParseException e) {
      throw new IllegalStateException("stored account key does not parse", e);
    }
    if (!a.status().equals("valid")) {
      throw AcmeProblem.unauthorized("the account is " + a.status());
    }
    return a;
  }

  private static String contact(Object o) {
    if (o == null) {
      return null;
    }
    if (!(o instanceof List<?> l) || l.size() > 10) {
      throw AcmeProblem.malformed("contact is a list of at most 10 mailto: URLs");
    }
    List<String> out = new ArrayList<>();
    for (Object x : l) {
      if (!(x instanceof String s) || !s.matches("mailto:[^\\s,@]{1,64}@[A-Za-z0-9.-]{1,253}")) {
        throw new AcmeProblem("invalidContact", 400, "contacts must be mailto: addresses");
      }
      out.add(s);
    }
    return String.join(",", out);
  }

  // ---- orders

  private Reply newOrder(Account acct, AcmeJws jws) {
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
    Instant expires = Instant.now().plus(ORDER_LIFETIME).truncatedTo(ChronoUnit.SECONDS);
    String orderId = newId();
    List<Authz> authzs = new ArrayList<>();
    for (String n : names) {
      authzs.add(
          new Authz(
              newId(),
              orderId,
              acct.id(),
              n,
              "pending",
              token(),
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
            Optional.empty());
    store.insertOrder(o, authzs);
    log.info(
        "event=acme_order_created account={} order={} names={}", acct.id(), orderId, names.size());
    return orderReply(acct, orderId, 201);
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

  private Reply orderReply(Account acct, String id, int status) {
    Order o = ownOrder(acct, id);
    o = refresh(o);
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
      az.add(base() + "/authz/" + a.id());
    }
    v.put("authorizations", az);
    v.put("finalize", base() + "/order/" + o.id() + "/finalize");
    o.error().ifPresent(e -> v.put("error", problem("unauthorized", e)));
    if (o.certSerial().isPresent()) {
      v.put("certificate", base() + "/cert/" + o.id());
    }
    return json(status, Optional.of(base() + "/order/" + o.id()), List.of(), v);
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

  private Order ownOrder(Account acct, String id) {
    Order o = store.order(id).orElseThrow(() -> AcmeProblem.notFound("no such order"));
    if (!o.accountId().equals(acct.id())) {
      throw AcmeProblem.unauthorized("this order belongs to another account");
    }
    return o;
  }

  // ---- authorizations and challenges

  private Reply authzReply(Account acct, String id) {
    Authz a = ownAuthz(acct, id);
    return json(200, Optional.empty(), List.of(), view(a));
  }

  private Reply challenge(Account acct, String id, AcmeJws jws) {
    Authz found = ownAuthz(acct, id);
    Authz a = found;
    if (!jws.isPostAsGet()
        && validations instanceof java.util.concurrent.ThreadPoolExecutor pool
        && pool.getQueue().remainingCapacity() == 0) {
      throw new AcmeProblem(
          "rateLimited", 503, "too many validations are waiting; retry this challenge later");
    }
    if (!jws.isPostAsGet() && store.startChallenge(found.id())) {
      String keyAuth = found.token() + "." + AcmeJws.thumbprint(jwk(acct));
      submitValidation(
          found.id(),
          () -> {
            Optional<String> err = validator.validate(found.identifier(), found.token(), keyAuth);
            store.finishChallenge(found.id(), err.isEmpty(), err.orElse(null));
            log.info(
                "event=acme_challenge_{} authz={} account={}",
                err.isEmpty() ? "valid" : "invalid",
                found.id(),
                acct.id());
          });
      a = store.authz(found.id()).orElseThrow();
    }
    return json(
        200,
        Optional.empty(),
        List.of("<" + base() + "/authz/" + a.id() + ">;rel=\"up\""),
        challengeView(a));
  }

  /** Queues a validation; if the queue filled up meanwhile, the challenge fails and says why. */
  private void submitValidation(String authzId, Runnable validation) {
    try {
      validations.execute(validation);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      store.finishChallenge(authzId, false, "the CA was too busy to validate; try a new order");
    }
  }

  private Authz ownAuthz(Account acct, String id) {
    Authz a = store.authz(id).orElseThrow(() -> AcmeProblem.notFound("no such authorization"));
    if (!a.accountId().equals(acct.id())) {
      throw AcmeProblem.unauthorized("this authorization belongs to another account");
    }
    return a;
  }

  private Map<String, Object> view(Authz a) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("status", a.status());
    v.put("expires", a.expires().toString());
    v.put("identifier", Map.of("type", "dns", "value", a.identifier()));
    v.put("challenges", List.of(challengeView(a)));
    return v;
  }

  private Map<String, Object> challengeView(Authz a) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("type", "http-01");
    c.put("url", base() + "/chall/" + a.id());
    c.put("token", a.token());
    c.put("status", a.challengeStatus());
    a.validatedAt()
        .ifPresent(t -> c.put("validated", t.truncatedTo(ChronoUnit.SECONDS).toString()));
    a.error().ifPresent(e -> c.put("error", problem("incorrectResponse", e)));
    return c;
  }

  // ---- finalize, download

  private Reply finalizeOrder(Account acct, String id, AcmeJws jws) {
    Order o = refresh(ownOrder(acct, id));
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
      String pem =
          "-----BEGIN CERTIFICATE REQUEST-----\n"
              + Base64.getMimeEncoder().encodeToString(der)
              + "\n-----END CERTIFICATE REQUEST-----\n";
      List<String> dns = new ArrayList<>(o.identifiers());
      // The CSR's first name becomes the subject CN when it is one of the order's names.
      if (!requested.isEmpty() && dns.remove(requested.get(0))) {
        dns.add(0, requested.get(0));
      }
      IssuanceService.Issued issued =
          issuance.issue(
              "acme:" + acct.id(),
              io.yinxin.ca.profile.Profile.Channel.ACME,
              new IssuanceService.IssueRequest(settings.profile(), pem, Map.of(), dns, List.of()));
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
    return orderReply(acct, o.id(), 200);
  }

  /** The DNS names a CSR asks for: its CN and its SAN dNSNames, CN first. */
  static List<String> csrNames(byte[] der) {
    try {
      PKCS10CertificationRequest req = new PKCS10CertificationRequest(der);
      List<String> names = new ArrayList<>();
      var cns = req.getSubject().getRDNs(BCStyle.CN);
      for (var rdn : cns) {
        names.add(rdn.getFirst().getValue().toString().toLowerCase(java.util.Locale.ROOT));
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
            String n = gn.getName().toString().toLowerCase(java.util.Locale.ROOT);
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

  private Reply certificate(Account acct, String orderId) {
    Order o = ownOrder(acct, orderId);
    if (o.certSerial().isEmpty()) {
      throw AcmeProblem.notFound("no certificate for this order yet");
    }
    CertificateRecord r =
        caStore
            .certificate(o.certIssuer().orElseThrow(), o.certSerial().get())
            .orElseThrow(() -> AcmeProblem.notFound("certificate not found"));
    StringBuilder pem = new StringBuilder(pem(r.der()));
    for (Issuer i : hierarchy.chain(r.issuer())) {
      if (hierarchy.config().ca(i.name()).map(c -> !c.isRoot()).orElse(false)) {
        pem.append(pem(i.encoded()));
      }
    }
    return new Reply(
        200,
        Optional.empty(),
        List.of(),
        pem.toString().getBytes(StandardCharsets.US_ASCII),
        "application/pem-certificate-chain");
  }

  // ---- revocation (RFC 8555 §7.6)

  private Reply revokeCert(AcmeJws jws) {
    Map<String, Object> p = jws.json();
    if (!(p.get("certificate") instanceof String certB64)) {
      throw AcmeProblem.malformed("certificate is required (base64url DER)");
    }
    X509CertificateHolder cert;
    try {
      cert = new X509CertificateHolder(Base64.getUrlDecoder().decode(certB64));
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw AcmeProblem.malformed("certificate is not base64url DER");
    }
    String issuer =
        hierarchy.issuers().stream()
            .filter(i -> i.subject().equals(cert.getIssuer()))
            .map(Issuer::name)
            .findFirst()
            .orElseThrow(() -> AcmeProblem.notFound("this CA did not issue that certificate"));
    String serial = cert.getSerialNumber().toString(16);
    CertificateRecord rec =
        caStore
            .certificate(issuer, serial)
            .filter(r -> Arrays.equals(r.der(), encoded(cert)))
            .orElseThrow(() -> AcmeProblem.notFound("this CA did not issue that certificate"));
    String actor;
    if (jws.jwk().isPresent()) {
      JWK jwk = jws.jwk().get();
      jws.verify(jwk);
      if (!Arrays.equals(publicKeyDer(jwk), subjectKeyDer(cert))) {
        throw AcmeProblem.unauthorized("the jwk is not the certificate's key");
      }
      actor = "acme:certificate-key";
    } else {
      Account acct = account(jws);
      Order o =
          store
              .orderForCertificate(issuer, serial)
              .orElseThrow(
                  () -> AcmeProblem.unauthorized("the certificate was not issued by ACME"));
      if (!o.accountId().equals(acct.id())) {
        throw AcmeProblem.unauthorized("the certificate belongs to another account");
      }
      actor = "acme:" + acct.id();
    }
    long code = 0;
    if (p.get("reason") instanceof Number n && (n instanceof Integer || n instanceof Long)) {
      code = n.longValue(); // never narrowed: 4294967297 is not reason 1
    } else if (p.containsKey("reason")) {
      throw new AcmeProblem("badRevocationReason", 400, "reason must be an integer");
    }
    if (!List.of(0L, 1L, 3L, 4L, 5L).contains(code)) {
      throw new AcmeProblem("badRevocationReason", 400, "reason: 0, 1, 3, 4 or 5 (RFC 8555 §7.6)");
    }
    if (rec.status() == CertificateRecord.Status.REVOKED) {
      throw new AcmeProblem("alreadyRevoked", 400, "the certificate is revoked already");
    }
    revocation.revoke(actor, issuer, serial, RevocationReason.ofCode((int) code).rfcName());
    return new Reply(200, Optional.empty(), List.of(), new byte[0], "application/json");
  }

  private static byte[] publicKeyDer(JWK jwk) {
    try {
      if (jwk instanceof com.nimbusds.jose.jwk.ECKey ec) {
        return ec.toECPublicKey().getEncoded();
      }
      if (jwk instanceof com.nimbusds.jose.jwk.RSAKey rsa) {
        return rsa.toRSAPublicKey().getEncoded();
      }
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new AcmeProblem("badPublicKey", 400, "the jwk does not convert to a public key");
    }
    throw new AcmeProblem("badPublicKey", 400, "unsupported key type");
  }

  private static byte[] encoded(X509CertificateHolder cert) {
    try {
      return cert.getEncoded();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] subjectKeyDer(X509CertificateHolder cert) {
    try {
      return cert.getSubjectPublicKeyInfo().getEncoded();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- rendering

  private Map<String, Object> view(Account a) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("status", a.status());
    if (a.contact() != null && !a.contact().isEmpty()) {
      v.put("contact", List.of(a.contact().split(",")));
    }
    v.put("orders", base() + "/acct/" + a.id() + "/orders");
    return v;
  }

  private static Map<String, Object> problem(String type, String detail) {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("type", "urn:ietf:params:acme:error:" + type);
    e.put("detail", detail);
    return e;
  }

  /** The problem document for an error. */
  public static byte[] problemBody(AcmeProblem p) {
    Map<String, Object> e = problem(p.type(), p.getMessage());
    e.put("status", p.status());
    return JSONObjectUtils.toJSONString(e).getBytes(StandardCharsets.UTF_8);
  }

  private String accountUrl(String id) {
    return base() + "/acct/" + id;
  }

  private static JWK jwk(Account a) {
    try {
      return JWK.parse(a.jwk());
    } catch (ParseException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Reply json(
      int status, Optional<String> location, List<String> links, Map<String, Object> body) {
    return new Reply(
        status,
        location,
        links,
        JSONObjectUtils.toJSONString(body).getBytes(StandardCharsets.UTF_8),
        "application/json");
  }

  private static String pem(byte[] der) {
    return "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END CERTIFICATE-----\n";
  }

  private static String newId() {
    byte[] b = new byte[15];
    Randomness.current().nextBytes(b);
    return Base64URL.encode(b).toString();
  }

  private static String token() {
    byte[] b = new byte[32];
    Randomness.current().nextBytes(b);
    return Base64URL.encode(b).toString();
  }
}
