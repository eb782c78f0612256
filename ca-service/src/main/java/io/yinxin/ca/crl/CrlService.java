package io.yinxin.ca.crl;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import io.yinxin.ca.CaException;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.issue.Issuer;
import io.yinxin.ca.revoke.RevocationReason;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord.Status;
import io.yinxin.ca.store.CrlStore.CrlRecord;
import io.yinxin.ca.store.StatusChangeStore;
import io.yinxin.ca.store.StatusChangeStore.StatusChange;
import io.yinxin.hsm.KeyService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.IssuingDistributionPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Full and delta CRLs for every CA and CRL partition. Each partition's CRLs carry an issuing
 * distribution point naming the URL its certificates point at (RFC 5280 §5.2.5), so a relying party
 * downloads only the partition its certificate is in. CRL numbers are monotonic per CA across
 * partitions and deltas.
 */
public final class CrlService {
  private static final Logger log = LoggerFactory.getLogger(CrlService.class);

  /** Delta CRLs look back this much before their base, so a change committed late is not lost. */
  static final Duration SKEW = Duration.ofMinutes(1);

  private final Hierarchy hierarchy;
  private final CaStore store;
  private final KeyService keys;
  private final AuditOutbox audit;
  private final Duration fullValidity;
  private final Duration deltaValidity;
  private final Duration rootValidity;

  /** One publication at a time per CRL, when a GET finds none yet (the scheduler does the rest). */
  private final java.util.concurrent.ConcurrentHashMap<String, Object> firstPublication =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * @param fullValidity nextUpdate − thisUpdate of full CRLs
   * @param deltaValidity nextUpdate − thisUpdate of delta CRLs
   */
  public CrlService(
      Hierarchy hierarchy,
      CaStore store,
      KeyService keys,
      AuditOutbox audit,
      Duration fullValidity,
      Duration deltaValidity,
      Duration rootValidity) {
    this.hierarchy = hierarchy;
    this.store = store;
    this.keys = keys;
    this.audit = audit;
    this.fullValidity = fullValidity;
    this.deltaValidity = deltaValidity;
    this.rootValidity = rootValidity;
  }

  /**
   * A partition holds certificates of the CA (partition 0 always exists): a CRL for any other one
   * would be published, stored and served for ever.
   */
  private void requirePartition(String ca, int partition) {
    if (partition != 0 && !store.crls().partitions(ca).contains(partition)) {
      throw new CaException(CaException.Code.NOT_FOUND, "no such CRL partition");
    }
  }

  /**
   * Publishes a new full CRL for one partition now.
   *
   * @throws CaException {@code NOT_FOUND} for a CA or partition that does not exist
   */
  public CrlRecord publishFull(String ca, int partition) {
    hierarchy.issuer(ca);
    requirePartition(ca, partition);
    CrlRecord full = signFull(ca, partition);
    followWithDelta(ca, partition);
    return full;
  }

  /**
   * A delta CRL is usable only with a full CRL at least as new as its base (RFC 5280 §5.2.4): every
   * new full CRL of a CA that publishes deltas is followed at once by a delta based on it.
   */
  private void followWithDelta(String ca, int partition) {
    if (!hierarchy.issuer(ca).isRoot()) {
      signDelta(ca, partition);
    }
  }

  /** Publishes a full CRL for a partition known to exist. */
  private CrlRecord signFull(String ca, int partition) {
    Issuer issuer = hierarchy.issuer(ca);
    Instant thisUpdate = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    Instant nextUpdate = thisUpdate.plus(issuer.isRoot() ? rootValidity : fullValidity);
    long started = System.nanoTime();
    AuditOutbox.Pending[] evidence = new AuditOutbox.Pending[1];
    CrlRecord r =
        store.inTransaction(
            c -> {
              long number = store.crls().nextCrlNumber(c, ca);
              // What this CRL saw of the feed, taken before the revoked list is read: every
              // change it could have missed comes after the snapshot, and goes into its deltas.
              StatusChangeStore.Snapshot seen = store.statusChanges().snapshot(c);
              CrlEncoder enc = new CrlEncoder();
              store.crls().revoked(c, ca, partition, enc::add);
              Extensions ext =
                  issuer.isRoot()
                      ? rootExtensions(issuer, number)
                      : extensions(
                          issuer,
                          number,
                          partition,
                          new Extension(
                              Extension.freshestCRL,
                              false,
                              der(crlDp(hierarchy.urls().deltaCrl(ca, partition)))));
              int entries = enc.count();
              byte[] der =
                  enc.sign(
                      issuer.subject(),
                      thisUpdate,
                      nextUpdate,
                      ext,
                      issuer.signer(keys, "crl:" + ca + "/" + partition));
              CrlRecord rec =
                  new CrlRecord(
                      ca,
                      number,
                      partition,
                      Optional.empty(),
                      thisUpdate,
                      nextUpdate,
                      entries,
                      der);
              store.crls().insertCrl(c, rec);
              store.crls().recordSnapshot(c, ca, number, seen);
              evidence[0] = audit.record(c, crlEvent(rec));
              return rec;
            });
    audit.await(evidence[0]);
    log.info(
        "event=crl_published ca={} partition={} number={} entries={} bytes={} ms={}",
        ca,
        partition,
        r.number(),
        r.entries(),
        r.der().length,
        (System.nanoTime() - started) / 1_000_000);
    return r;
  }

  /**
   * Publishes a delta CRL against the newest full CRL of the partition (publishing a full one first
   * if there is none): certificates revoked or put on hold since, and certificates released from
   * hold since, listed with reason removeFromCRL (RFC 5280 §5.2.4).
   */
  public CrlRecord publishDelta(String ca, int partition) {
    if (hierarchy.issuer(ca).isRoot()) {
      throw new CaException(
          CaException.Code.NOT_FOUND, "a root publishes full CRLs only (its key is used rarely)");
    }
    requirePartition(ca, partition);
    return signDelta(ca, partition);
  }

  /** Publishes a delta CRL for a partition known to exist. */
  private CrlRecord signDelta(String ca, int partition) {
    Issuer issuer = hierarchy.issuer(ca);
    CrlRecord base =
        store.crls().latestCrl(ca, partition, false).orElseGet(() -> signFull(ca, partition));
    Instant thisUpdate = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    Instant nextUpdate = thisUpdate.plus(deltaValidity);
    AuditOutbox.Pending[] evidence = new AuditOutbox.Pending[1];
    CrlRecord r =
        store.inTransaction(
            c -> {
              long number = store.crls().nextCrlNumber(c, ca);
              StatusChangeStore.Snapshot seen = store.statusChanges().snapshot(c);
              Map<String, StatusChange> latest = new LinkedHashMap<>();
              // Everything the base did not see, by sequence number (a change stamped by a node
              // whose clock is behind, or committed late, included).
              for (StatusChange ch :
                  store
                      .statusChanges()
                      .changesAfter(
                          c,
                          ca,
                          partition,
                          store.crls().snapshot(c, ca, base.number()),
                          base.thisUpdate().minus(SKEW))) {
                latest.remove(ch.serial());
                latest.put(ch.serial(), ch);
              }
              CrlEncoder enc = new CrlEncoder();
              for (StatusChange ch : latest.values()) {
                int reason =
                    ch.status() == Status.VALID
                        ? RevocationReason.REMOVE_FROM_CRL.code()
                        : ch.reason();
                enc.add(
                    ch.serial(),
                    ch.at().toEpochMilli(),
                    reason,
                    ch.status() == Status.VALID
                        ? -1
                        : ch.invalidity().map(Instant::toEpochMilli).orElse(-1L));
              }
              Extensions ext =
                  extensions(
                      issuer,
                      number,
                      partition,
                      new Extension(
                          Extension.deltaCRLIndicator,
                          true,
                          der(new CRLNumber(BigInteger.valueOf(base.number())))));
              byte[] der =
                  enc.sign(
                      issuer.subject(),
                      thisUpdate,
                      nextUpdate,
                      ext,
                      issuer.signer(keys, "crl:" + ca + "/" + partition + "-delta"));
              CrlRecord rec =
                  new CrlRecord(
                      ca,
                      number,
                      partition,
                      Optional.of(base.number()),
                      thisUpdate,
                      nextUpdate,
                      enc.count(),
                      der);
              store.crls().insertCrl(c, rec);
              store.crls().recordSnapshot(c, ca, number, seen);
              evidence[0] = audit.record(c, crlEvent(rec));
              return rec;
            });
    audit.await(evidence[0]);
    log.info(
        "event=delta_crl_published ca={} partition={} number={} base={} entries={}",
        ca,
        partition,
        r.number(),
        base.number(),
        r.entries());
    return r;
  }

  /**
   * The CRL to serve: the newest stored one while it is fresh (more than a quarter of its validity
   * left), else a newly published one. Only partitions that hold certificates (and partition 0)
   * exist.
   */
  public CrlRecord current(String ca, int partition, boolean delta) {
    Issuer issuer = hierarchy.issuer(ca);
    if (delta && issuer.isRoot()) {
      throw new CaException(CaException.Code.NOT_FOUND, "a root publishes no delta CRLs");
    }
    Optional<CrlRecord> latest = store.crls().latestCrl(ca, partition, delta);
    if (latest.isPresent()) {
      // Even when due for renewal: the scheduler renews it; a GET never signs what exists.
      return latest.get();
    }
    requirePartition(ca, partition);
    // None yet (a node's first minutes): one publication, however many ask at once.
    synchronized (firstPublication.computeIfAbsent(ca + "/" + partition, k -> new Object())) {
      latest = store.crls().latestCrl(ca, partition, delta);
      if (latest.isPresent()) {
        return latest.get();
      }
      return delta ? signDelta(ca, partition) : signFull(ca, partition);
    }
  }

  /**
   * One scheduler tick: a full CRL where none is fresh, a delta CRL where the status of a
   * certificate changed since the last one.
   */
  public void tick() {
    for (Issuer i : hierarchy.issuers()) {
      for (int p : partitionsOf(i.name())) {
        Optional<CrlRecord> full = store.crls().latestCrl(i.name(), p, false);
        if (full.isEmpty() || !fresh(full.get())) {
          signFull(i.name(), p);
          followWithDelta(i.name(), p);
          continue;
        }
        if (i.isRoot()) {
          continue; // full CRLs only
        }
        Optional<CrlRecord> delta = store.crls().latestCrl(i.name(), p, true);
        CrlRecord newest = delta.orElse(full.get());
        Instant since = newest.thisUpdate();
        // A change the newest CRL did not see, by sequence number when it noted its snapshot.
        boolean changed =
            !store
                .inTransaction(
                    c ->
                        store
                            .statusChanges()
                            .changesAfter(
                                c,
                                i.name(),
                                p,
                                store.crls().snapshot(c, i.name(), newest.number()),
                                since))
                .isEmpty();
        if (delta.isEmpty() || changed || !fresh(delta.get())) {
          signDelta(i.name(), p);
        }
      }
    }
  }

  private List<Integer> partitionsOf(String ca) {
    List<Integer> ps = new ArrayList<>(store.crls().partitions(ca));
    if (!ps.contains(0)) {
      ps.add(0, 0);
    }
    return ps;
  }

  private static boolean fresh(CrlRecord r) {
    Duration validity = Duration.between(r.thisUpdate(), r.nextUpdate());
    return Instant.now().isBefore(r.nextUpdate().minus(validity.dividedBy(4)));
  }

  /**
   * A root's CRL: AKI and CRL number, and no issuing distribution point. The root's certificate
   * names no CRL distribution point (nothing names where its own status is), so an IDP with a
   * distribution-point name would give the CRL a scope that matches no certificate the relying
   * party checks against it: {@code openssl verify -crl_check_all} fails with "different CRL
   * scope". Without an IDP the CRL covers everything the root issued, which is what it is.
   */
  private Extensions rootExtensions(Issuer issuer, long number) {
    return new Extensions(
        new Extension[] {
          new Extension(
              Extension.authorityKeyIdentifier, false, der(issuer.authorityKeyIdentifier())),
          new Extension(Extension.cRLNumber, false, der(new CRLNumber(BigInteger.valueOf(number))))
        });
  }

  /** AKI, CRL number and issuing distribution point, plus the full or delta CRL's own one. */
  private Extensions extensions(Issuer issuer, long number, int partition, Extension own) {
    return new Extensions(
        new Extension[] {
          new Extension(
              Extension.authorityKeyIdentifier, false, der(issuer.authorityKeyIdentifier())),
          new Extension(Extension.cRLNumber, false, der(new CRLNumber(BigInteger.valueOf(number)))),
          new Extension(
              Extension.issuingDistributionPoint, true, der(idp(issuer.name(), partition))),
          own
        });
  }

  private IssuingDistributionPoint idp(String ca, int partition) {
    return new IssuingDistributionPoint(
        new DistributionPointName(
            new GeneralNames(
                new GeneralName(
                    GeneralName.uniformResourceIdentifier, hierarchy.urls().crl(ca, partition)))),
        false,
        false);
  }

  private static CRLDistPoint crlDp(String url) {
    return new CRLDistPoint(
        new DistributionPoint[] {
          new DistributionPoint(
              new DistributionPointName(
                  new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, url))),
              null,
              null)
        });
  }

  private static AuditEvent crlEvent(CrlRecord r) {
    Map<String, String> attrs = new LinkedHashMap<>();
    attrs.put("number", Long.toString(r.number()));
    attrs.put("partition", Integer.toString(r.partition()));
    attrs.put("entries", Integer.toString(r.entries()));
    r.baseNumber().ifPresent(b -> attrs.put("baseNumber", Long.toString(b)));
    return new AuditEvent(
        EventType.CRL_ISSUED,
        "ca-crl",
        r.issuer() + "/crl/" + r.partition(),
        r.thisUpdate(),
        attrs,
        Optional.empty());
  }

  private static byte[] der(org.bouncycastle.asn1.ASN1Object o) {
    try {
      return o.getEncoded(ASN1Encoding.DER);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
