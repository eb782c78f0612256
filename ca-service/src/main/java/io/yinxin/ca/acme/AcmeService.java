package io.yinxin.ca.acme;

import io.yinxin.ca.acme.AcmeStore.Account;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.issue.IssuanceService;
import io.yinxin.ca.profile.Profile;
import io.yinxin.ca.revoke.RevocationService;
import io.yinxin.ca.store.CaStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An RFC 8555 ACME server for TLS server certificates. This class is the front door the HTTP
 * mappings of {@link AcmeController} call: it checks every request's JWS (rate limit, nonce, URL,
 * and for account requests the signature) before handing it to the part that owns the resource —
 * {@link AcmeAccounts}, {@link AcmeOrders}, {@link AcmeChallenges}, {@link AcmeRevocations}.
 */
public final class AcmeService {
  private static final Logger log = LoggerFactory.getLogger(AcmeService.class);

  private final AcmeStore store;
  private final AcmeViews views;
  private final AcmeNonces nonces;
  private final AcmeRateLimits limits;
  private final AcmeAccounts accounts;
  private final AcmeOrders orders;
  private final AcmeChallenges challenges;
  private final AcmeRevocations revocations;
  private final AcmeRenewals renewals;
  private final AcmeExternalAccounts external;

  /**
   * What the ACME server allows.
   *
   * @param profile the profile certificates are issued under (server-tls)
   * @param allowLocalhost accept names under .localhost (RFC 6761), validated on loopback; for the
   *     embedded default only
   * @param allowedDomains other names must equal one of these or end with "." + one
   * @param http01Port the port http-01 challenges are fetched from (80 in RFC 8555)
   * @param rateLimits per-address and per-account limits
   * @param externalAccountRequired open accounts only with an external account binding (RFC 8555
   *     §7.3.4) made by {@link #newExternalAccountKey}
   */
  public record AcmeSettings(
      String profile,
      boolean allowLocalhost,
      List<String> allowedDomains,
      int http01Port,
      RateLimits rateLimits,
      boolean externalAccountRequired) {
    public AcmeSettings {
      allowedDomains = List.copyOf(allowedDomains);
    }
  }

  /**
   * Rate limits: requests per node, the hourly ones for all nodes together (see {@link
   * AcmeRateLimits}).
   *
   * @param requestsPerSecond requests (signed or new-nonce) per source address per second
   * @param requestBurst requests a source address may send at once
   * @param newAccountsPerHour accounts one source address may create per hour
   * @param newAccountsPerIpv6RangePerHour accounts one IPv6 /48 may create per hour
   * @param newOrdersPerHour orders one account may create per hour
   * @param failedValidationsPerHour failed validations one account may have per hour
   */
  public record RateLimits(
      int requestsPerSecond,
      int requestBurst,
      int newAccountsPerHour,
      int newAccountsPerIpv6RangePerHour,
      int newOrdersPerHour,
      int failedValidationsPerHour) {}

  /** An HTTP answer: status, Location, Link headers, body and its type. */
  public record Reply(
      int status, Optional<String> location, List<String> links, byte[] body, String contentType) {}

  public AcmeService(
      CaStore caStore,
      Hierarchy hierarchy,
      IssuanceService issuance,
      RevocationService revocation,
      AcmeSettings settings,
      ExecutorService validations,
      io.yinxin.audit.AuditOutbox audit) {
    this.store = new AcmeStore(caStore);
    this.views = new AcmeViews(hierarchy);
    RateLimits r = settings.rateLimits();
    byte[] nonceKey = store.nonceKey();
    this.limits =
        new AcmeRateLimits(
            new AcmeRateLimits.Limits(
                r.requestsPerSecond(),
                r.requestBurst(),
                r.newAccountsPerHour(),
                r.newAccountsPerIpv6RangePerHour(),
                r.newOrdersPerHour(),
                r.failedValidationsPerHour()),
            System::nanoTime,
            100_000,
            new SharedBuckets(caStore, System::currentTimeMillis),
            nonceKey);
    this.nonces = new AcmeNonces(store, nonceKey, Clock.systemUTC());
    this.external = new AcmeExternalAccounts(store, settings.externalAccountRequired(), audit);
    this.accounts = new AcmeAccounts(store, views, limits, external);
    this.renewals = new AcmeRenewals(store, caStore, hierarchy, views, Instant::now);
    this.orders =
        new AcmeOrders(store, caStore, hierarchy, issuance, settings, views, limits, renewals);
    this.challenges =
        new AcmeChallenges(
            store,
            views,
            new Http01Validator(settings.http01Port(), settings.allowLocalhost()),
            validations,
            limits);
    this.revocations = new AcmeRevocations(store, caStore, hierarchy, revocation, accounts);
    issuance.profile(settings.profile(), Profile.Channel.ACME);
  }

  String base() {
    return views.base();
  }

  /** The directory (RFC 8555 §7.1.1). */
  public Reply directory() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("newNonce", base() + "/new-nonce");
    d.put("newAccount", base() + "/new-account");
    d.put("newOrder", base() + "/new-order");
    d.put("revokeCert", base() + "/revoke-cert");
    d.put("keyChange", base() + "/key-change");
    d.put("renewalInfo", base() + "/renewal-info");
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("website", views.website());
    meta.put("externalAccountRequired", external.required());
    d.put("meta", meta);
    return AcmeViews.json(200, Optional.empty(), List.of(), d);
  }

  /** A nonce asked for by {@code new-nonce}: counted against the address's request limit. */
  public String newNonce(String address) {
    limits.request(address);
    return nonces.issue();
  }

  /**
   * Renewal information (RFC 9773): an unauthenticated GET, counted against the address's request
   * limit like {@code new-nonce}.
   */
  public Reply renewalInfo(String certId, String address) {
    limits.request(address);
    return renewals.renewalInfo(certId);
  }

  /**
   * A key for external account binding, for an operator to hand out: {@code kid}, the MAC key
   * (base64url, shown only here) and when it expires unused.
   */
  public Map<String, Object> newExternalAccountKey(String label, String actor) {
    AcmeExternalAccounts.NewKey k = external.create(label, actor);
    log.info("event=acme_eab_key_created kid={} by={}", k.kid(), actor);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("kid", k.kid());
    out.put("hmacKey", k.hmacKey());
    out.put("expires", k.expires().toString());
    out.put("directory", base() + "/directory");
    return out;
  }

  /** The external account keys made so far, newest first, without their MAC keys. */
  public List<Map<String, Object>> externalAccountKeys() {
    List<Map<String, Object>> out = new java.util.ArrayList<>();
    for (AcmeStore.EabKey k : external.list()) {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("kid", k.kid());
      v.put("label", k.label());
      v.put("createdBy", k.createdBy());
      v.put("created", k.created().toString());
      v.put("expires", k.expires().toString());
      k.accountId().ifPresent(a -> v.put("account", views.accountUrl(a)));
      k.used().ifPresent(t -> v.put("used", t.toString()));
      k.revoked().ifPresent(t -> v.put("revoked", t.toString()));
      out.add(v);
    }
    return out;
  }

  /**
   * Takes an external account key back; the account it bound, if any, is deactivated.
   *
   * @return empty if there is no such key
   */
  public Optional<Map<String, Object>> revokeExternalAccountKey(String kid, String actor) {
    return external
        .revoke(kid, actor)
        .map(
            r -> {
              log.info("event=acme_eab_key_revoked kid={} by={}", kid, actor);
              Map<String, Object> v = new LinkedHashMap<>();
              v.put("kid", kid);
              v.put("revoked", true);
              r.deactivatedAccount()
                  .ifPresent(a -> v.put("deactivatedAccount", views.accountUrl(a)));
              return v;
            });
  }

  /** The nonce every answer carries (RFC 8555 §6.5); nothing is stored for it. */
  public String replayNonce() {
    return nonces.issue();
  }

  /**
   * Expired used nonces out, orders or challenges a dead process left half done back, orders that
   * expired a day ago without a certificate out, and rate-limit buckets full again out; call now
   * and then.
   */
  public void purge() {
    // Kept 10 minutes past expiry, so a node whose clock runs ahead cannot free a nonce that a
    // node whose clock runs behind would still accept.
    store.purgeNonces(Instant.now().minus(Duration.ofMinutes(10)));
    int recovered = store.recoverInterrupted(Instant.now().minus(Duration.ofMinutes(5)));
    if (recovered > 0) {
      log.warn("event=acme_interrupted_recovered count={}", recovered);
    }
    // A day past expiry, so no node whose clock runs behind still serves the order as live.
    int purged = store.purgeExpiredOrders(Instant.now().minus(Duration.ofDays(1)));
    if (purged > 0) {
      log.info("event=acme_expired_orders_deleted count={}", purged);
    }
    limits.purge(System.currentTimeMillis());
  }

  /**
   * The checks every POST passes first (RFC 8555 §6.2-6.5): the address's rate limit, a JWS that
   * parses, a nonce of this CA used for the first time, and a {@code url} equal to the request's.
   *
   * @param path the request path after {@code /acme}
   * @param address the client's address, for rate limits
   */
  public Request authenticate(String path, byte[] body, String address) {
    limits.request(address);
    AcmeJws jws = AcmeJws.parse(body);
    if (!nonces.use(jws.nonce())) {
      throw new AcmeProblem("badNonce", 400, "the nonce is unknown, used or expired");
    }
    if (!jws.url().equals(base() + path)) {
      throw AcmeProblem.unauthorized("the JWS url does not match the request URL");
    }
    return new Request(jws, address);
  }

  /** A POST whose nonce and URL were checked; its signature is checked by the resource. */
  public record Request(AcmeJws jws, String address) {}

  public Reply newAccount(Request r) {
    return accounts.create(r.jws(), r.address());
  }

  public Reply account(Request r, String id) {
    return accounts.update(signer(r), id, r.jws());
  }

  public Reply keyChange(Request r) {
    return accounts.changeKey(signer(r), r.jws());
  }

  public Reply accountOrders(Request r, String id) {
    return accounts.orders(signer(r), id);
  }

  public Reply newOrder(Request r) {
    Reply reply = orders.create(signer(r), r.jws());
    io.yinxin.ca.CaMetrics.acmeOrder("created", reply.status() < 400);
    return reply;
  }

  public Reply order(Request r, String id) {
    return orders.reply(signer(r), id, 200);
  }

  public Reply finalizeOrder(Request r, String id) {
    Reply reply = orders.finalize(signer(r), id, r.jws());
    io.yinxin.ca.CaMetrics.acmeOrder("finalized", reply.status() < 400);
    return reply;
  }

  public Reply certificate(Request r, String orderId) {
    return orders.certificate(signer(r), orderId);
  }

  public Reply authz(Request r, String id) {
    return challenges.authz(signer(r), id);
  }

  public Reply challenge(Request r, String id) {
    return challenges.respond(signer(r), id, r.jws());
  }

  public Reply revokeCert(Request r) {
    return revocations.revoke(r.jws());
  }

  private Account signer(Request r) {
    return accounts.signer(r.jws());
  }

  /** The problem document for an error. */
  public static byte[] problemBody(AcmeProblem p) {
    Map<String, Object> e = AcmeViews.problem(p.type(), p.getMessage());
    e.put("status", p.status());
    return AcmeJson.write(e);
  }
}
