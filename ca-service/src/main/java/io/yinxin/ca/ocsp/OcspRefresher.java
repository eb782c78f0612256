package io.yinxin.ca.ocsp;

import io.yinxin.ca.ocsp.OcspSigner.Responder;
import io.yinxin.ca.ocsp.OcspSigner.Signed;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Optional;
import org.bouncycastle.cert.ocsp.CertificateID;

/**
 * Keeps signed single answers in the cache ahead of the requests: signs one on a cache miss, after
 * an issuance (pre-signing) and before a cached one reaches its refresh time, and stores it only if
 * no status changed meanwhile ({@link OcspCache#storeIfUnchanged}).
 */
final class OcspRefresher {
  private final OcspCache cache;
  private final OcspSigner signer;
  private final Duration validity;
  private final Duration refreshBefore;

  OcspRefresher(OcspCache cache, OcspSigner signer, Duration validity, Duration refreshBefore) {
    if (refreshBefore.compareTo(validity) >= 0) {
      throw new IllegalArgumentException("OCSP refresh-before must be shorter than validity");
    }
    this.cache = cache;
    this.signer = signer;
    this.validity = validity;
    this.refreshBefore = refreshBefore;
  }

  /** A freshly signed single answer, and the cache entry it was stored as (if it was). */
  record Fresh(byte[] der, Optional<OcspCache.Entry> stored, String status) {}

  /**
   * Signs a single answer and caches it unless it is {@code unknown} or a status change happened
   * since the status was read (then the answer is served once and not kept).
   */
  Fresh signAndCache(Responder r, OcspCache.Key key, CertificateID id, Instant now) {
    long version = cache.version();
    Signed fresh = signer.sign(r, new CertificateID[] {id}, Optional.empty(), now);
    if (!fresh.known()) {
      return new Fresh(fresh.der(), Optional.empty(), fresh.status());
    }
    Instant thisUpdate = now.truncatedTo(ChronoUnit.SECONDS);
    OcspCache.Entry e =
        new OcspCache.Entry(
            fresh.der(),
            now.plus(validity).minus(refreshBefore),
            id,
            thisUpdate,
            thisUpdate.plus(validity),
            etag(fresh.der()),
            fresh.status());
    return new Fresh(
        fresh.der(),
        cache.storeIfUnchanged(key, e, version) ? Optional.of(e) : Optional.empty(),
        fresh.status());
  }

  /**
   * Re-signs cached answers that reach their refresh time within {@code horizon}, so requests never
   * wait for a signature; call about once a minute.
   *
   * @return how many were re-signed
   */
  int refresh(Duration horizon) {
    Instant now = Instant.now();
    Instant due = now.plus(horizon);
    int n = 0;
    for (var e : cache.all()) {
      OcspCache.Entry c = e.getValue();
      if (c.refreshAt().isBefore(due)) {
        Optional<Responder> r = signer.responderFor(c.id());
        if (r.isPresent() && cache.live(e.getKey(), c)) {
          signAndCache(r.get(), e.getKey(), c.id(), now);
          n++;
        }
      }
    }
    return n;
  }

  private static String etag(byte[] der) {
    byte[] h = io.yinxin.ca.Sha256.digest(der);
    return "\"" + io.yinxin.ca.Sha256.hex(Arrays.copyOf(h, 16)) + "\"";
  }
}
