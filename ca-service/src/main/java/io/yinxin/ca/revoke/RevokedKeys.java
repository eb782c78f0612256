package io.yinxin.ca.revoke;

import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Whether a public key ever had a certificate revoked, answered on the issuance path without a
 * database query for the keys that never did (all but a few): a Bloom filter of the revoked keys'
 * SHA-256 hashes, loaded at start, fed by this node's revocations at once and by other nodes'
 * within about a second ({@link #follow(StatusFeed)}). A filter hit is confirmed in the database,
 * so a false positive costs one query and never refuses a good key; a key is never missing from the
 * filter once its revocation is known here.
 *
 * <p>Sized at start for the revoked keys then present plus a million more; past that the
 * false-positive rate (and with it the share of confirming queries) grows slowly until the next
 * start.
 */
public final class RevokedKeys {
  /**
   * A certificate revoked because its CA was compromised says nothing about its own key: the
   * subscriber keeps it, and the replacement CA re-issues for it.
   */
  private static final int CA_COMPROMISE = RevocationReason.CA_COMPROMISE.code();

  private static final int HASHES = 6;

  private final CaStore store;
  private final AtomicLongArray bits;
  private final int mask;

  private RevokedKeys(CaStore store, long expected) {
    this.store = store;
    // 16 bits per key and 6 hash functions: about 0.1 % false positives at the expected count
    long wanted = Math.max(1L << 23, Long.highestOneBit(Math.max(1, expected * 16)) << 1);
    int size = (int) Math.min(1L << 30, wanted);
    this.bits = new AtomicLongArray(size / 64);
    this.mask = size - 1;
  }

  /** Loads the revoked keys from the store. */
  public static RevokedKeys load(CaStore store) {
    long[] n = {0};
    store.certificates().forEachRevokedKey(k -> n[0]++);
    RevokedKeys r = new RevokedKeys(store, n[0] + 1_000_000);
    store.certificates().forEachRevokedKey(r::add);
    return r;
  }

  /**
   * Whether a certificate for this key was revoked (hold does not count).
   *
   * @param keySha256 SHA-256 of the DER SubjectPublicKeyInfo
   */
  public boolean wasRevoked(byte[] keySha256) {
    return mightBeRevoked(keySha256) && store.certificates().keyWasRevoked(keySha256);
  }

  /** The filter alone: false means certainly never revoked (as far as this node knows). */
  boolean mightBeRevoked(byte[] keySha256) {
    for (int i = 0; i < HASHES; i++) {
      int bit = index(keySha256, i);
      if ((bits.get(bit >>> 6) & (1L << bit)) == 0) {
        return false;
      }
    }
    return true;
  }

  /** Adds a revoked key. */
  public void add(byte[] keySha256) {
    for (int i = 0; i < HASHES; i++) {
      int bit = index(keySha256, i);
      long m = 1L << bit;
      bits.getAndAccumulate(bit >>> 6, m, (a, b) -> a | b);
    }
  }

  /** Follows this node's revocations at once. */
  public void follow(RevocationService revocations) {
    revocations.onChange(
        r -> {
          if (r.status() == CertificateRecord.Status.REVOKED
              && !r.reason().equals(java.util.Optional.of(CA_COMPROMISE))) {
            add(r.keySha256());
          }
        });
  }

  /**
   * Adds the keys other nodes revoke, as the feed delivers them. Create the feed before {@link
   * #load}, so nothing revoked between the two is missed.
   */
  public void follow(StatusFeed feed) {
    feed.follow(
        ch -> {
          if (ch.status() == CertificateRecord.Status.REVOKED && ch.reason() != CA_COMPROMISE) {
            add(ch.keySha256());
          }
        });
  }

  /** The key hash is SHA-256 output already: its 32-bit words serve as independent hashes. */
  private int index(byte[] h, int i) {
    int o = 4 * i;
    int v =
        (h[o] & 0xff) << 24 | (h[o + 1] & 0xff) << 16 | (h[o + 2] & 0xff) << 8 | (h[o + 3] & 0xff);
    return v & mask;
  }
}
