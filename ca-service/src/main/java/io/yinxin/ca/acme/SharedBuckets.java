package io.yinxin.ca.acme;

import io.yinxin.ca.CaException;
import io.yinxin.ca.store.CaStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.function.LongSupplier;

/**
 * Token buckets in the CA database ({@code ca.acme_limit_buckets}), shared by every node on it, for
 * limits that must hold for all nodes together: what a client does rarely and what stays behind
 * (accounts, orders, validations that fetch from the network). Each take reads the bucket, refills
 * it for the time since it was written, and writes it back only if nobody wrote it meanwhile (its
 * version), else reads again: two nodes taking the last token at once, one gets it.
 *
 * <p>Time is the nodes' clocks, in milliseconds. A bucket never goes back in time: a node whose
 * clock runs behind the last writer's refills nothing until its clock passes that instant, so a
 * skew between nodes can only delay a refill by the skew, never grant a token more.
 */
final class SharedBuckets {
  /** Reads and compare-and-sets of one take before giving up on a bucket in contention. */
  private static final int ATTEMPTS = 8;

  private final CaStore store;
  private final LongSupplier millis;

  /**
   * @param millis the wall clock, milliseconds since the epoch
   */
  SharedBuckets(CaStore store, LongSupplier millis) {
    this.store = store;
    this.millis = millis;
  }

  /**
   * Takes one token from the bucket ({@code spend}), or only looks whether one is there.
   *
   * @param capacity the most tokens the bucket holds (a new bucket is full)
   * @param rate tokens back per {@code periodSeconds}
   * @return 0 if there was a token (and it was taken, if {@code spend}), else the seconds until
   *     there is one
   */
  long take(String kind, String who, int capacity, int rate, int periodSeconds, boolean spend) {
    double periodMillis = periodSeconds * 1000.0;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      long now = millis.getAsLong();
      Long answer;
      try {
        answer =
            store.inTransactionUnsynced(
                c -> {
                  double tokens = capacity;
                  long at = now;
                  Long version = null;
                  try (PreparedStatement ps =
                      c.prepareStatement(
                          "SELECT tokens, at_ms, version FROM ca.acme_limit_buckets"
                              + " WHERE kind = ? AND who = ?")) {
                    ps.setString(1, kind);
                    ps.setString(2, who);
                    try (ResultSet rs = ps.executeQuery()) {
                      if (rs.next()) {
                        tokens = rs.getDouble(1);
                        at = rs.getLong(2);
                        version = rs.getLong(3);
                      }
                    }
                  }
                  if (now > at) {
                    tokens = Math.min(capacity, tokens + (now - at) * (double) rate / periodMillis);
                    at = now;
                  }
                  if (tokens < 1) {
                    return Math.max(1, (long) Math.ceil((1 - tokens) * periodMillis / rate / 1000));
                  }
                  if (!spend) {
                    return 0L;
                  }
                  if (version == null) {
                    try (PreparedStatement ps =
                        c.prepareStatement(
                            "INSERT INTO ca.acme_limit_buckets (kind, who, tokens, at_ms, version)"
                                + " VALUES (?, ?, ?, ?, 0)")) {
                      ps.setString(1, kind);
                      ps.setString(2, who);
                      ps.setDouble(3, tokens - 1);
                      ps.setLong(4, at);
                      ps.executeUpdate(); // another node's first take: CONFLICT, read again
                      return 0L;
                    }
                  }
                  try (PreparedStatement ps =
                      c.prepareStatement(
                          "UPDATE ca.acme_limit_buckets SET tokens = ?, at_ms = ?,"
                              + " version = version + 1 WHERE kind = ? AND who = ? AND version = ?")) {
                    ps.setDouble(1, tokens - 1);
                    ps.setLong(2, at);
                    ps.setString(3, kind);
                    ps.setString(4, who);
                    ps.setLong(5, version);
                    return ps.executeUpdate() == 1 ? 0L : null; // written meanwhile: read again
                  }
                });
      } catch (CaException e) {
        if (e.code() != CaException.Code.CONFLICT) {
          throw e;
        }
        answer = null;
      }
      if (answer != null) {
        return answer;
      }
    }
    return 1; // that many takes of one bucket at once is a flood on it: try again in a second
  }

  /**
   * Deletes the buckets last written before {@code beforeMillis}; how many. A bucket that has had
   * the time to fill up again is the same as none.
   */
  int purge(long beforeMillis) {
    return store.inTransactionUnsynced(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM ca.acme_limit_buckets WHERE at_ms < ?")) {
            ps.setLong(1, beforeMillis);
            return ps.executeUpdate();
          }
        });
  }
}
