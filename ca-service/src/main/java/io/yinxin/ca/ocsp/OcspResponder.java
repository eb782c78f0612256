package io.yinxin.ca.ocsp;

import com.github.benmanes.caffeine.cache.Caffeine;
import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.hierarchy.Hierarchy.ServiceKey;
import io.yinxin.ca.issue.Issuer;
import io.yinxin.ca.revoke.RevocationService;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeyUse;
import io.yinxin.hsm.bridge.KeyServiceContentSigner;
import java.io.IOException;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.Req;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.bc.BcDigestCalculatorProvider;
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
 * <p>Never throws for bad input: every answer is a DER OCSPResponse ({@code malformedRequest},
 * {@code unauthorized} for a CA this responder does not serve, {@code internalError}).
 */
public final class OcspResponder implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OcspResponder.class);

  private static final byte[] MALFORMED = status(OCSPRespBuilder.MALFORMED_REQUEST);
  private static final byte[] UNAUTHORIZED = status(OCSPRespBuilder.UNAUTHORIZED);
  private static final byte[] INTERNAL_ERROR = status(OCSPRespBuilder.INTERNAL_ERROR);

  private final Hierarchy hierarchy;
  private final CaStore store;
  private final KeyService keys;
  private final Duration validity;
  private final Duration refreshBefore;
  private final Map<IssuerKey, Responder> responders = new HashMap<>();

  /**
   * Signed answers by certificate, bounded by bytes, one entry evicted at a time (Caffeine's
   * W-TinyLFU, close to LRU for this use). Only answers for certificates this CA issued are cached:
   * an {@code unknown} answer costs its asker a signature, never memory.
   */
  private final ConcurrentMap<CacheKey, Cached> cache;

  /** GET requests as sent (the encoded path) to their cached answer: no decoding, no parsing. */
  private final ConcurrentMap<String, Front> front;

  /**
   * Bumped by every status change before its entries are dropped: an answer signed from a status
   * read before the change is not stored (compare-and-set against this version), so a revocation
   * racing a re-signature can never put {@code good} back.
   */
  private final java.util.concurrent.atomic.AtomicLong statusVersion =
      new java.util.concurrent.atomic.AtomicLong();

  private final AuditLog audit;

  /** Signatures made per CA since the last {@link #recordKeyUse}, and since when. */
  private final ConcurrentHashMap<Tally, LongAdder> signatures = new ConcurrentHashMap<>();

  private volatile Instant tallySince = Instant.now();

  /** (hash algorithm, issuerNameHash, issuerKeyHash) of a CertID. */
  private record IssuerKey(ASN1ObjectIdentifier alg, String nameHash, String keyHash) {}

  /**
   * The responder for one CA. Its signer is looked up at every signature, so a signer certificate
   * renewed by {@link Hierarchy#renewServices} is used from the next answer on, without a restart.
   */
  private final class Responder {
    private final Issuer ca;
    private final String service;
    private volatile Signer current;

    Responder(Issuer ca, String service) {
      this.ca = ca;
      this.service = service;
    }

    Issuer ca() {
      return ca;
    }

    Signer signer() {
      ServiceKey now =
          hierarchy
              .service(service)
              .orElseThrow(() -> new IllegalStateException("OCSP signer " + service + " is gone"));
      Signer s = current;
      if (s == null || s.key() != now) {
        s = new Signer(now, respId(now));
        current = s;
      }
      return s;
    }
  }

  /** A signer key and certificate with the ResponderID (by key hash) that names it. */
  private record Signer(ServiceKey key, RespID respId) {}

  /** Which signer key made how many signatures for which CA since the last tally. */
  private record Tally(String ca, io.yinxin.hsm.KeyRef key, io.yinxin.hsm.SignatureAlgorithm alg) {}

  private record CacheKey(String ca, BigInteger serial, ASN1ObjectIdentifier alg) {}

  /**
   * A signed answer and what HTTP caching needs to know of it (RFC 5019 §6.2).
   *
   * @param etag a strong validator: the answer's hash, quoted
   */
  private record Cached(
      byte[] response,
      Instant refreshAt,
      CertificateID id,
      Instant thisUpdate,
      Instant nextUpdate,
      String etag) {}

  /** A front-cache entry: valid only while {@code cached} is still the live entry for its key. */
  private record Front(CacheKey key, Cached cached) {}

  /**
   * An answer to one request.
   *
   * @param der the DER OCSPResponse
   * @param cacheable for a cached single answer, its times and validator (GET caching headers)
   */
  public record Answer(byte[] der, Optional<HttpCaching> cacheable) {}

  /** What an HTTP cache may do with a GET answer (RFC 5019 §6.2). */
  public record HttpCaching(Instant thisUpdate, Instant nextUpdate, String etag) {}

  /** An answer with the cache key it was stored under, if it was. */
  private record Internal(byte[] der, CacheKey key, Cached cached) {}

  /**
   * @param validity nextUpdate − thisUpdate of each response
   * @param refreshBefore a cached response is replaced this long before its nextUpdate
   * @param maxCached most cached responses: the cache holds at most this many typical answers'
   *     bytes, evicting one entry at a time
   */
  public OcspResponder(
      Hierarchy hierarchy,
      CaStore store,
      KeyService keys,
      AuditLog audit,
      Duration validity,
      Duration refreshBefore,
      int maxCached) {
    if (refreshBefore.compareTo(validity) >= 0) {
      throw new IllegalArgumentException("OCSP refresh-before must be shorter than validity");
    }
    this.hierarchy = hierarchy;
    this.store = store;
    this.keys = keys;
    this.audit = audit;
    this.validity = validity;
    this.refreshBefore = refreshBefore;
    // About 1 KiB per answer (ECDSA P-256 with the signer's certificate) plus bookkeeping.
    long maxBytes = Math.max(1L << 20, (long) maxCached * 1200L);
    this.cache =
        Caffeine.newBuilder()
            .maximumWeight(maxBytes)
            .weigher((CacheKey k, Cached v) -> v.response().length + 200)
            .executor(Runnable::run)
            .<CacheKey, Cached>build()
            .asMap();
    this.front =
        Caffeine.newBuilder()
            .maximumWeight(maxBytes / 4)
            .weigher((String k, Front v) -> k.length() + 100)
            .executor(Runnable::run)
            .<String, Front>build()
            .asMap();
    for (Issuer ca : hierarchy.issuers()) {
      String service = "ocsp-" + ca.name();
      if (hierarchy.service(service).isEmpty()) {
        continue;
      }
      try {
        Responder r = new Responder(ca, service);
        for (ASN1ObjectIdentifier alg :
            List.of(OIWObjectIdentifiers.idSHA1, NISTObjectIdentifiers.id_sha256)) {
          String jca = alg.equals(OIWObjectIdentifiers.idSHA1) ? "SHA-1" : "SHA-256";
          byte[] nameHash = hash(jca, ca.certificate().getSubject().getEncoded());
          byte[] keyHash =
              hash(jca, ca.certificate().getSubjectPublicKeyInfo().getPublicKeyData().getBytes());
          responders.put(new IssuerKey(alg, hex(nameHash), hex(keyHash)), r);
        }
      } catch (IOException e) {
        throw new IllegalStateException("cannot set up OCSP for " + ca.name(), e);
      }
    }
  }

  /** Hooks cache eviction to revocations made on this node. */
  public void follow(RevocationService revocations) {
    revocations.onChange(r -> invalidate(r.issuer(), r.serial()));
  }

  /**
   * Answers a GET request by its encoded form: a repeat of a request already answered from the
   * cache is served without decoding or parsing it.
   *
   * @param encoded the request's base64, percent-decoded and without padding (one key per request)
   * @param decode turns it into DER when it is not known yet
   */
  public Answer respondEncoded(String encoded, java.util.function.Supplier<byte[]> decode) {
    Front f = front.get(encoded);
    if (f != null
        && cache.get(f.key()) == f.cached()
        && Instant.now().isBefore(f.cached().refreshAt())) {
      return answer(f.cached());
    }
    Internal a = respondInternal(decode.get());
    if (a.cached() != null && cache.get(a.key()) == a.cached()) {
      front.put(encoded, new Front(a.key(), a.cached()));
      return answer(a.cached());
    }
    return new Answer(a.der(), Optional.empty());
  }

  private static Answer answer(Cached c) {
    return new Answer(
        c.response(), Optional.of(new HttpCaching(c.thisUpdate(), c.nextUpdate(), c.etag())));
  }

  /** Answers one DER OCSPRequest with a DER OCSPResponse. */
  public byte[] respond(byte[] requestDer) {
    return respondInternal(requestDer).der();
  }

  private static Internal plain(byte[] der) {
    return new Internal(der, null, null);
  }

  private Internal respondInternal(byte[] requestDer) {
    OCSPReq req;
    try {
      req = new OCSPReq(requestDer);
    } catch (IOException | RuntimeException e) {
      return plain(MALFORMED);
    }
    Req[] list;
    try {
      list = req.getRequestList();
    } catch (RuntimeException e) {
      return plain(MALFORMED);
    }
    if (list.length == 0 || list.length > 16) {
      return plain(MALFORMED);
    }
    Extension nonce = req.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce);
    byte[] nonceValue = null;
    if (nonce != null) {
      byte[] inner = nonceOctets(nonce);
      if (inner == null) {
        return plain(MALFORMED);
      }
      // RFC 8954: a nonce is 1 to 32 octets; anything else is a malformed request.
      if (inner.length < 1 || inner.length > 32) {
        return plain(MALFORMED);
      }
      // Echo the extension value exactly as sent.
      nonceValue = nonce.getExtnValue().getOctets();
    }
    try {
      Responder r = responderFor(list[0].getCertID());
      if (r == null) {
        return plain(UNAUTHORIZED);
      }
      if (list.length == 1 && nonceValue == null) {
        CertificateID id = list[0].getCertID();
        CacheKey key = new CacheKey(r.ca().name(), id.getSerialNumber(), id.getHashAlgOID());
        Cached hit = cache.get(key);
        Instant now = Instant.now();
        if (hit != null && now.isBefore(hit.refreshAt())) {
          return new Internal(hit.response(), key, hit);
        }
        return signAndCache(r, key, id, now);
      }
      CertificateID[] ids = new CertificateID[list.length];
      for (int i = 0; i < list.length; i++) {
        ids[i] = list[i].getCertID();
      }
      return plain(sign(r, ids, nonceValue, Instant.now()).der());
    } catch (RuntimeException e) {
      log.error("event=ocsp_failed reason={}", e.toString());
      return plain(INTERNAL_ERROR);
    }
  }

  /**
   * Signs a single answer and caches it unless it is {@code unknown} or a status change happened
   * since the status was read (then the answer is served once and not kept).
   */
  private Internal signAndCache(Responder r, CacheKey key, CertificateID id, Instant now) {
    long version = statusVersion.get();
    Signed fresh = sign(r, new CertificateID[] {id}, null, now);
    if (!fresh.known()) {
      return plain(fresh.der());
    }
    Instant thisUpdate = now.truncatedTo(ChronoUnit.SECONDS);
    Cached c =
        new Cached(
            fresh.der(),
            now.plus(validity).minus(refreshBefore),
            id,
            thisUpdate,
            thisUpdate.plus(validity),
            etag(fresh.der()));
    // Stored under the entry's lock only if no status changed meanwhile; invalidate() bumps the
    // version first and then removes under the same lock, so a stale answer never stays.
    Cached stored = cache.compute(key, (k, old) -> statusVersion.get() == version ? c : old);
    return stored == c ? new Internal(c.response(), key, c) : plain(fresh.der());
  }

  private static String etag(byte[] der) {
    byte[] h = io.yinxin.ca.Sha256.digest(der);
    return "\"" + io.yinxin.ca.Sha256.hex(java.util.Arrays.copyOf(h, 16)) + "\"";
  }

  /**
   * Signs and caches the answer for a certificate before anyone asks (called after issuance, off
   * the request path), for the SHA-1 CertID that OCSP clients send.
   */
  public void presign(String ca, String serialHex) {
    for (Responder r : responders.values()) {
      if (!r.ca().name().equals(ca)) {
        continue;
      }
      try {
        CertificateID id =
            new CertificateID(
                new BcDigestCalculatorProvider().get(CertificateID.HASH_SHA1),
                r.ca().certificate(),
                new BigInteger(serialHex, 16));
        CacheKey key = new CacheKey(ca, id.getSerialNumber(), id.getHashAlgOID());
        signAndCache(r, key, id, Instant.now());
      } catch (OCSPException | org.bouncycastle.operator.OperatorCreationException e) {
        log.warn("event=ocsp_presign_failed ca={} reason={}", ca, e.getMessage());
      }
      return;
    }
  }

  /**
   * Re-signs cached answers that reach their refresh time within {@code horizon}, so requests never
   * wait for a signature; call about once a minute.
   *
   * @return how many were re-signed
   */
  public int refresh(Duration horizon) {
    Instant now = Instant.now();
    Instant due = now.plus(horizon);
    int n = 0;
    for (var e : cache.entrySet()) {
      Cached c = e.getValue();
      if (c.refreshAt().isBefore(due)) {
        Responder r = responderFor(c.id());
        if (r != null && cache.get(e.getKey()) == c) {
          signAndCache(r, e.getKey(), c.id(), now);
          n++;
        }
      }
    }
    return n;
  }

  /** Drops cached responses for a certificate whose status changed. */
  public void invalidate(String ca, String serialHex) {
    BigInteger serial = new BigInteger(serialHex, 16);
    statusVersion.incrementAndGet();
    cache.remove(new CacheKey(ca, serial, OIWObjectIdentifiers.idSHA1));
    cache.remove(new CacheKey(ca, serial, NISTObjectIdentifiers.id_sha256));
  }

  /** Follows status changes made on other nodes, as the feed delivers them. */
  public void follow(io.yinxin.ca.revoke.StatusFeed feed) {
    feed.follow(ch -> invalidate(ch.issuer(), ch.serial()));
  }

  /** GET spellings in the front cache now. */
  public int frontCached() {
    return front.size();
  }

  /** Responses in the cache now. */
  public int cached() {
    return cache.size();
  }

  private Responder responderFor(CertificateID id) {
    return responders.get(
        new IssuerKey(id.getHashAlgOID(), hex(id.getIssuerNameHash()), hex(id.getIssuerKeyHash())));
  }

  /** A signed response, and whether every certificate in it is one this CA issued. */
  private record Signed(byte[] der, boolean known) {}

  private Signed sign(Responder r, CertificateID[] list, byte[] nonce, Instant now) {
    Instant thisUpdate = now.truncatedTo(ChronoUnit.SECONDS);
    Date next = Date.from(thisUpdate.plus(validity));
    Signer signer = r.signer();
    BasicOCSPRespBuilder b = new BasicOCSPRespBuilder(signer.respId());
    boolean known = true;
    for (CertificateID id : list) {
      Responder owner = responderFor(id);
      CertificateStatus status =
          owner == r ? status(r.ca().name(), id.getSerialNumber()) : new UnknownStatus();
      known &= !(status instanceof UnknownStatus);
      b.addResponse(id, status, Date.from(thisUpdate), next, null);
    }
    if (nonce != null) {
      b.setResponseExtensions(
          new Extensions(new Extension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce, false, nonce)));
    }
    try {
      ServiceKey s = signer.key();
      BasicOCSPResp basic =
          b.build(
              KeyServiceContentSigner.recordedByCaller(keys, s.key(), s.algorithm(), purpose(r)),
              new X509CertificateHolder[] {s.certificate()},
              Date.from(thisUpdate));
      signatures
          .computeIfAbsent(new Tally(r.ca().name(), s.key(), s.algorithm()), k -> new LongAdder())
          .increment();
      return new Signed(
          new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic).getEncoded(), known);
    } catch (OCSPException | IOException e) {
      throw new IllegalStateException("cannot build OCSP response", e);
    }
  }

  /**
   * Records the OCSP signatures made since the last call as one {@code KEY_USED} event per signer
   * key, with their count and period; call about once a minute and at shutdown. OCSP signing keys
   * are used by anyone who sends a request with a nonce, unauthenticated: one audit entry per
   * signature would let any client grow the evidence log at will, so their uses are tallied (the
   * signed responses themselves are public and carry the signer's certificate).
   *
   * @return how many events were appended
   */
  public synchronized int recordKeyUse() {
    Instant since = tallySince;
    Instant now = Instant.now();
    tallySince = now;
    int events = 0;
    for (var e : signatures.entrySet()) {
      Tally t = e.getKey();
      LongAdder counter = e.getValue();
      long n = counter.sumThenReset();
      if (n == 0) {
        continue;
      }
      Map<String, String> attrs = new LinkedHashMap<>();
      attrs.put("operation", KeyUse.Operation.SIGN.name());
      attrs.put("purpose", "ocsp:" + t.ca());
      attrs.put("algorithm", t.alg().name());
      attrs.put("count", Long.toString(n));
      attrs.put("from", since.toString());
      attrs.put("to", now.toString());
      try {
        audit.append(
            new AuditEvent(
                EventType.KEY_USED,
                "ca-service",
                t.key().toString(),
                now,
                attrs,
                Optional.empty()));
        events++;
      } catch (RuntimeException ex) {
        counter.add(n); // counted again in the next event
        log.warn("event=ocsp_key_use_not_recorded ca={} reason={}", t.ca(), ex.toString());
      }
    }
    return events;
  }

  /** Records what is left of the tally. */
  @Override
  public void close() {
    recordKeyUse();
  }

  private static String purpose(Responder r) {
    return "ocsp:" + r.ca().name();
  }

  private static RespID respId(ServiceKey signer) {
    try {
      return new RespID(signer.certificate().getSubjectPublicKeyInfo(), digest(RespID.HASH_SHA1));
    } catch (OCSPException e) {
      throw new IllegalStateException("cannot name the OCSP signer " + signer.name(), e);
    }
  }

  private CertificateStatus status(String ca, BigInteger serial) {
    if (serial.signum() <= 0 || serial.bitLength() > 256) {
      return new UnknownStatus();
    }
    Optional<CertificateRecord> rec = store.certificate(ca, serial.toString(16));
    if (rec.isEmpty()) {
      return new UnknownStatus();
    }
    CertificateRecord c = rec.get();
    return switch (c.status()) {
      case VALID -> CertificateStatus.GOOD;
      case REVOKED, ON_HOLD ->
          new RevokedStatus(
              Date.from(c.revokedAt().orElseThrow()), c.reason().orElse(CRLReason.unspecified));
    };
  }

  /** The nonce octets (RFC 8954: the extension value is an OCTET STRING), or null if malformed. */
  private static byte[] nonceOctets(Extension nonce) {
    try {
      byte[] inner = ASN1OctetString.getInstance(nonce.getParsedValue()).getOctets();
      return inner.length == 0 ? null : inner;
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static byte[] status(int code) {
    try {
      return new OCSPRespBuilder().build(code, null).getEncoded();
    } catch (OCSPException | IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static DigestCalculator digest(AlgorithmIdentifier alg) {
    try {
      return new BcDigestCalculatorProvider().get(alg);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] hash(String alg, byte[] data) {
    try {
      return MessageDigest.getInstance(alg).digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hex(byte[] b) {
    return io.yinxin.ca.Sha256.hex(b);
  }
}
