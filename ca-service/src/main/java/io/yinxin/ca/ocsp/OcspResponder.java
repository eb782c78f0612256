package io.yinxin.ca.ocsp;

import io.yinxin.audit.AuditLog;
import io.yinxin.audit.access.AddressLimits;
import io.yinxin.ca.CaMetrics;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.ocsp.OcspSigner.Responder;
import io.yinxin.ca.revoke.RevocationService;
import io.yinxin.ca.revoke.StatusFeed;
import io.yinxin.ca.store.CaStore;
import io.yinxin.hsm.KeyService;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Supplier;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An RFC 6960 OCSP responder for every CA of the hierarchy, signing with each CA's delegated OCSP
 * signer. Responses for single requests without a nonce are signed once and served from a cache
 * until shortly before their nextUpdate, so the hot path does no signing and no database read; a
 * status change evicts the entry at once on this node, and within a second on the others (they
 * follow {@code ca.status_changes}). A request with a nonce (RFC 8954, 1 to 32 octets) gets a fresh
 * response echoing it.
 *
 * <p>Answers signed on request (a nonce, several certificates, a first request, a serial never
 * issued) are limited per client address and per node ({@link AddressLimits}). Beyond the limit a
 * request with a nonce about one certificate gets the cached answer without the nonce (RFC 5019
 * §2.2.1: a responder may ignore nonces), and the rest get {@code tryLater}.
 *
 * <p>Never throws for bad input: every answer is a DER OCSPResponse ({@code malformedRequest},
 * {@code unauthorized} for a CA this responder does not serve, {@code internalError}).
 *
 * <p>This class routes; the parts are {@link OcspRequests} (parsing), {@link OcspCache} (signed
 * answers), {@link OcspSigner} (signing, status, key-use tally) and {@link OcspRefresher} (signing
 * ahead of requests).
 */
public final class OcspResponder implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OcspResponder.class);

  private static final byte[] MALFORMED = status(OCSPRespBuilder.MALFORMED_REQUEST);
  private static final byte[] UNAUTHORIZED = status(OCSPRespBuilder.UNAUTHORIZED);
  private static final byte[] INTERNAL_ERROR = status(OCSPRespBuilder.INTERNAL_ERROR);
  private static final byte[] TRY_LATER = status(OCSPRespBuilder.TRY_LATER);

  private static boolean keyBackendDown(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof io.yinxin.hsm.KeyException k
          && (k.code() == io.yinxin.hsm.KeyException.Code.BACKEND_UNAVAILABLE
              || k.code() == io.yinxin.hsm.KeyException.Code.AUTH_FAILED)) {
        return true;
      }
    }
    return false;
  }

  private final OcspCache cache;
  private final OcspSigner signer;
  private final OcspRefresher refresher;
  private final AddressLimits limits;

  /**
   * An answer to one request.
   *
   * @param der the DER OCSPResponse
   * @param cacheable for a cached single answer, its times and validator (GET caching headers)
   */
  public record Answer(byte[] der, Optional<HttpCaching> cacheable) {}

  /** What an HTTP cache may do with a GET answer (RFC 5019 §6.2). */
  public record HttpCaching(Instant thisUpdate, Instant nextUpdate, String etag) {}

  /** An answer, with the cache entry (and its key) it is, if it is one. */
  private record Internal(byte[] der, OcspCache.Key key, OcspCache.Entry entry) {}

  /**
   * @param validity nextUpdate − thisUpdate of each response
   * @param refreshBefore a cached response is replaced this long before its nextUpdate
   * @param maxCached most cached responses: the cache holds at most this many typical answers'
   *     bytes, evicting one entry at a time
   * @param limits answers signed on request, per client address and per node
   */
  public OcspResponder(
      Hierarchy hierarchy,
      CaStore store,
      KeyService keys,
      AuditLog audit,
      Duration validity,
      Duration refreshBefore,
      int maxCached,
      AddressLimits limits) {
    this.limits = limits;
    // About 1 KiB per answer (ECDSA P-256 with the signer's certificate) plus bookkeeping.
    this.cache = new OcspCache(Math.max(1L << 20, (long) maxCached * 1200L));
    this.signer = new OcspSigner(hierarchy, store, keys, audit, validity);
    this.refresher = new OcspRefresher(cache, signer, validity, refreshBefore);
  }

  /** Hooks cache eviction to revocations made on this node. */
  public void follow(RevocationService revocations) {
    revocations.onChange(r -> invalidate(r.issuer(), r.serial()));
  }

  /** Follows status changes made on other nodes, as the feed delivers them. */
  public void follow(StatusFeed feed) {
    feed.follow(ch -> invalidate(ch.issuer(), ch.serial()));
  }

  /**
   * Answers a GET request by its encoded form: a repeat of a request already answered from the
   * cache is served without decoding or parsing it.
   *
   * @param encoded the request's base64, percent-decoded and without padding (one key per request)
   * @param decode turns it into DER when it is not known yet
   * @param client the client's address, for {@link AddressLimits}
   */
  public Answer respondEncoded(String encoded, Supplier<byte[]> decode, String client) {
    OcspCache.Entry hit = cache.front(encoded, Instant.now());
    if (hit != null) {
      CaMetrics.ocsp(hit.status(), true);
      return answer(hit);
    }
    Internal a = respondInternal(decode.get(), client);
    if (a.entry() != null && cache.live(a.key(), a.entry())) {
      cache.putFront(encoded, a.key(), a.entry());
      return answer(a.entry());
    }
    return new Answer(a.der(), Optional.empty());
  }

  /** Answers one DER OCSPRequest with a DER OCSPResponse, for this node itself (not limited). */
  public byte[] respond(byte[] requestDer) {
    return respond(requestDer, null);
  }

  /**
   * Answers one DER OCSPRequest with a DER OCSPResponse.
   *
   * @param client the client's address, for {@link AddressLimits}; null for this node itself
   */
  public byte[] respond(byte[] requestDer, String client) {
    return respondInternal(requestDer, client).der();
  }

  private static Answer answer(OcspCache.Entry e) {
    return new Answer(
        e.response(), Optional.of(new HttpCaching(e.thisUpdate(), e.nextUpdate(), e.etag())));
  }

  private static Internal plain(byte[] der) {
    return new Internal(der, null, null);
  }

  private Internal respondInternal(byte[] requestDer, String client) {
    Optional<OcspRequests.Parsed> parsed = OcspRequests.parse(requestDer);
    if (parsed.isEmpty()) {
      CaMetrics.ocsp("malformed", false);
      return plain(MALFORMED);
    }
    OcspRequests.Parsed req = parsed.get();
    try {
      Optional<Responder> r = signer.responderFor(req.ids()[0]);
      if (r.isEmpty()) {
        CaMetrics.ocsp("unauthorized", false);
        return plain(UNAUTHORIZED);
      }
      Instant now = Instant.now();
      CertificateID id = req.ids()[0];
      OcspCache.Key key =
          new OcspCache.Key(r.get().ca().name(), id.getSerialNumber(), id.getHashAlgOID());
      if (!req.single()) {
        if (limits.take(client) > 0) {
          // Over the limit: one certificate's cached answer, without the nonce, is still true.
          // Not as a cache entry: a GET spelling with a nonce is not kept in the front cache.
          OcspCache.Entry hit = req.ids().length == 1 ? cache.get(key) : null;
          return hit != null && now.isBefore(hit.nextUpdate())
              ? plain(cached(new Internal(hit.response(), key, hit)).der())
              : limited();
        }
        OcspSigner.Signed several = signer.sign(r.get(), req.ids(), req.nonce(), now);
        CaMetrics.ocsp(several.status(), false);
        return plain(several.der());
      }
      OcspCache.Entry hit = cache.get(key);
      if (hit != null && now.isBefore(hit.refreshAt())) {
        return cached(new Internal(hit.response(), key, hit));
      }
      if (limits.take(client) > 0) {
        return hit != null && now.isBefore(hit.nextUpdate())
            ? cached(new Internal(hit.response(), key, hit))
            : limited();
      }
      OcspRefresher.Fresh fresh;
      try {
        fresh = refresher.signAndCache(r.get(), key, id, now);
      } catch (RuntimeException e) {
        // The signer cannot sign (its key backend down): an answer signed before that is still
        // within its validity is still true and still verifies; serve it.
        if (hit != null && now.isBefore(hit.nextUpdate())) {
          return cached(new Internal(hit.response(), key, hit));
        }
        throw e;
      }
      CaMetrics.ocsp(fresh.status(), false);
      return fresh.stored().map(e -> new Internal(e.response(), key, e)).orElse(plain(fresh.der()));
    } catch (RuntimeException e) {
      if (keyBackendDown(e)) {
        // RFC 6960 §2.3 tryLater: the responder cannot sign now (a nonce or a first request).
        log.warn("event=ocsp_try_later reason=key_backend_unavailable");
        CaMetrics.ocsp("try_later", false);
        return plain(TRY_LATER);
      }
      log.error("event=ocsp_failed reason={}", e.toString());
      CaMetrics.ocsp("internal_error", false);
      return plain(INTERNAL_ERROR);
    }
  }

  private static Internal cached(Internal a) {
    CaMetrics.ocsp(a.entry().status(), true);
    return a;
  }

  /** RFC 6960 §2.3 tryLater: this client, or every client, asked for too many fresh signatures. */
  private static Internal limited() {
    CaMetrics.ocsp("try_later", false);
    CaMetrics.ocspLimited();
    return plain(TRY_LATER);
  }

  /**
   * Signs and caches the answer for a certificate before anyone asks (called after issuance, off
   * the request path), for the SHA-1 CertID that OCSP clients send.
   */
  public void presign(String ca, String serialHex) {
    signer
        .responderOf(ca)
        .ifPresent(
            r -> {
              try {
                CertificateID id = OcspSigner.sha1Id(r, new BigInteger(serialHex, 16));
                refresher.signAndCache(
                    r,
                    new OcspCache.Key(ca, id.getSerialNumber(), id.getHashAlgOID()),
                    id,
                    Instant.now());
              } catch (RuntimeException e) {
                log.warn("event=ocsp_presign_failed ca={} reason={}", ca, e.getMessage());
              }
            });
  }

  /**
   * Re-signs cached answers that reach their refresh time within {@code horizon}, so requests never
   * wait for a signature; call about once a minute.
   *
   * @return how many were re-signed
   */
  public int refresh(Duration horizon) {
    return refresher.refresh(horizon);
  }

  /** Drops cached responses for a certificate whose status changed. */
  public void invalidate(String ca, String serialHex) {
    cache.invalidate(ca, new BigInteger(serialHex, 16));
  }

  /** GET spellings in the front cache now. */
  public int frontCached() {
    return cache.frontSize();
  }

  /** The soonest nextUpdate among the answers signed ahead (empty when none is cached). */
  public Optional<Instant> earliestNextUpdate() {
    Instant min = null;
    for (var e : cache.all()) {
      Instant n = e.getValue().nextUpdate();
      if (min == null || n.isBefore(min)) {
        min = n;
      }
    }
    return Optional.ofNullable(min);
  }

  /** Responses in the cache now. */
  public int cached() {
    return cache.size();
  }

  /** See {@link OcspSigner#recordKeyUse}. */
  public int recordKeyUse() {
    return signer.recordKeyUse();
  }

  /** Records what is left of the tally. */
  @Override
  public void close() {
    recordKeyUse();
  }

  private static byte[] status(int code) {
    try {
      return new OCSPRespBuilder().build(code, null).getEncoded();
    } catch (OCSPException | IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
}
