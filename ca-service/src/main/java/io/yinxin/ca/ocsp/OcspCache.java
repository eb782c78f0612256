package io.yinxin.ca.ocsp;

import com.github.benmanes.caffeine.cache.Caffeine;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.cert.ocsp.CertificateID;

/**
 * Signed single answers by certificate, bounded by bytes and evicting one entry at a time
 * (Caffeine's W-TinyLFU, close to LRU here), and in front of it GET requests as sent mapped to
 * their entry, so a repeated GET is answered without decoding or parsing. Only answers for
 * certificates this CA issued are stored: an {@code unknown} costs its asker a signature, never
 * memory.
 *
 * <p>Every status change bumps a version before it drops the certificate's entries, and an answer
 * is stored only if the version has not moved since its status was read (compare-and-set under the
 * entry's lock), so a revocation racing a re-signature can never put {@code good} back.
 */
final class OcspCache {
  record Key(String ca, BigInteger serial, ASN1ObjectIdentifier alg) {}

  /**
   * A signed answer and what HTTP caching needs to know of it (RFC 5019 §6.2).
   *
   * @param etag a strong validator: the answer's hash, quoted
   */
  record Entry(
      byte[] response,
      Instant refreshAt,
      CertificateID id,
      Instant thisUpdate,
      Instant nextUpdate,
      String etag,
      String status) {}

  /** A front entry: valid only while {@code entry} is still the live entry for {@code key}. */
  private record Front(Key key, Entry entry) {}

  private final ConcurrentMap<Key, Entry> entries;
  private final ConcurrentMap<String, Front> front;
  private final AtomicLong version = new AtomicLong();

  /**
   * @param maxBytes most bytes of answers held; the front cache holds a quarter of that in keys
   */
  OcspCache(long maxBytes) {
    this.entries =
        Caffeine.newBuilder()
            .maximumWeight(maxBytes)
            .weigher((Key k, Entry v) -> v.response().length + 200)
            .executor(Runnable::run)
            .<Key, Entry>build()
            .asMap();
    this.front =
        Caffeine.newBuilder()
            .maximumWeight(maxBytes / 4)
            .weigher((String k, Front v) -> k.length() + 100)
            .executor(Runnable::run)
            .<String, Front>build()
            .asMap();
  }

  Entry get(Key key) {
    return entries.get(key);
  }

  /** The version to pass to {@link #storeIfUnchanged}, read before the status is. */
  long version() {
    return version.get();
  }

  /** Stores {@code e} unless a status changed since {@code seenVersion}; true if stored. */
  boolean storeIfUnchanged(Key key, Entry e, long seenVersion) {
    return entries.compute(key, (k, old) -> version.get() == seenVersion ? e : old) == e;
  }

  /** Whether {@code e} is still the live entry of {@code key}. */
  boolean live(Key key, Entry e) {
    return entries.get(key) == e;
  }

  /** Drops the entries of a certificate whose status changed. */
  void invalidate(String ca, BigInteger serial) {
    version.incrementAndGet();
    entries.remove(new Key(ca, serial, OIWObjectIdentifiers.idSHA1));
    entries.remove(new Key(ca, serial, NISTObjectIdentifiers.id_sha256));
  }

  /** The live entry a GET spelling was answered with, while it is not due for refresh. */
  Entry front(String encoded, Instant now) {
    Front f = front.get(encoded);
    if (f != null && live(f.key(), f.entry()) && now.isBefore(f.entry().refreshAt())) {
      return f.entry();
    }
    return null;
  }

  void putFront(String encoded, Key key, Entry e) {
    front.put(encoded, new Front(key, e));
  }

  Iterable<Map.Entry<Key, Entry>> all() {
    return entries.entrySet();
  }

  int size() {
    return entries.size();
  }

  int frontSize() {
    return front.size();
  }
}
