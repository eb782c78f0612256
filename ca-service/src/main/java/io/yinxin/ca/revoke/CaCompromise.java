package io.yinxin.ca.revoke;

import io.yinxin.ca.CaException;
import io.yinxin.ca.crl.CrlService;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.issue.IssuanceService;
import io.yinxin.ca.issue.Issuer;
import io.yinxin.ca.profile.Profile;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import io.yinxin.ca.store.CertificateRecord.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The emergency procedure for an issuing CA whose key is compromised, in the order that protects
 * relying parties soonest:
 *
 * <ol>
 *   <li>the CA's own certificate is revoked at its parent (reason {@code cACompromise}) and the
 *       parent's CRLs are published at once: from then on no path through the CA validates for a
 *       relying party that checks revocation, and every node stops issuing from it;
 *   <li>every certificate the CA issued that is valid or on hold is revoked with reason {@code
 *       cACompromise}, in one transaction with one audit event each, and the CA's CRLs (every
 *       partition, full and delta) are published; OCSP answers change on every node through the
 *       status feed;
 *   <li>what the configuration names and does not exist yet is created (the replacement CA the
 *       operator added to the hierarchy file, and its delegated OCSP signer);
 *   <li>{@link #reissue} then issues, from the CA each certificate's profile names now, a new
 *       certificate with the same subject, names and public key for every revoked certificate that
 *       has not expired and whose key was not revoked for its own sake.
 * </ol>
 *
 * {@link #plan} is the dry run: it changes nothing and says what the procedure would do. A root's
 * compromise is out of scope: it needs a new trust anchor distributed out of band.
 */
public final class CaCompromise {
  private static final Logger log = LoggerFactory.getLogger(CaCompromise.class);

  /** The procedure's name in audit events. */
  public static final String PROCEDURE = "ca-compromise";

  /**
   * Certificates issued on another node just before it heard of the revocation may still be on
   * their way to the database: the revocation sweep runs again once this has passed.
   */
  static final Duration SETTLE = Duration.ofSeconds(2);

  private final Hierarchy hierarchy;
  private final CaStore store;
  private final RevocationService revocations;
  private final CrlService crls;
  private final IssuanceService issuance;

  public CaCompromise(
      Hierarchy hierarchy,
      CaStore store,
      RevocationService revocations,
      CrlService crls,
      IssuanceService issuance) {
    this.hierarchy = hierarchy;
    this.store = store;
    this.revocations = revocations;
    this.crls = crls;
    this.issuance = issuance;
  }

  /**
   * What the procedure would do.
   *
   * @param ca the compromised CA
   * @param parent the CA that revokes its certificate
   * @param caSerial the compromised CA certificate's serial
   * @param caCertificateRevoked whether that certificate is revoked already (a re-run)
   * @param toRevoke certificates of the CA that are valid or on hold
   * @param partitions the CA's CRL partitions, each published anew
   * @param toCreate what {@code ca init} would create ({@code ca NAME}, {@code service NAME})
   * @param profilesNamingCa profiles that still name the CA: requests under them are refused and
   *     their certificates are not re-issued until the hierarchy file points them elsewhere
   * @param awaitingReissue revoked for this compromise, not expired, not re-issued yet
   */
  public record Plan(
      String ca,
      String parent,
      String caSerial,
      boolean caCertificateRevoked,
      long toRevoke,
      List<Integer> partitions,
      List<String> toCreate,
      List<String> profilesNamingCa,
      long awaitingReissue) {}

  /**
   * What the procedure did.
   *
   * @param revoked certificates revoked (both sweeps)
   * @param crls CRLs published, as {@code ca/partition}
   * @param created what was created (the replacement CA, OCSP signers)
   * @param millisToCrls from the start until the last CRL was published
   * @param millisTotal the whole procedure
   */
  public record Report(
      Plan plan,
      int revoked,
      List<String> crls,
      List<String> created,
      long millisToCrls,
      long millisTotal) {}

  /**
   * One batch of re-issuance.
   *
   * @param reissued new certificates, as {@code oldIssuer/oldSerial -> newIssuer/newSerial}
   * @param passedOver certificates not re-issued, with why: {@code key revoked} (the key itself was
   *     revoked for another reason), {@code service certificate} (the hierarchy makes its own, at
   *     init, from the replacement)
   * @param remaining still awaiting re-issue after this batch
   */
  public record ReissueBatch(
      Map<String, String> reissued, Map<String, String> passedOver, long remaining) {}

  /** The dry run: changes nothing. */
  public Plan plan(String ca) {
    Issuer issuer = hierarchy.issuer(ca);
    String parent =
        hierarchy
            .parent(ca)
            .orElseThrow(
                () ->
                    new CaException(
                        CaException.Code.CONFLICT,
                        "CA "
                            + ca
                            + " is a root: its compromise needs a new trust anchor distributed"
                            + " to every relying party out of band; this procedure is for issuing"
                            + " CAs"));
    String caSerial = issuer.certificate().getSerialNumber().toString(16);
    CertificateRecord caRow =
        store
            .certificates()
            .certificate(parent, caSerial)
            .orElseThrow(
                () ->
                    new CaException(
                        CaException.Code.CONFLICT,
                        "the certificate of CA " + ca + " is not in " + parent + "'s records"));
    Map<Status, Long> counts = store.certificates().countByStatus(ca);
    long toRevoke = counts.getOrDefault(Status.VALID, 0L) + counts.getOrDefault(Status.ON_HOLD, 0L);
    List<String> naming = new ArrayList<>();
    for (Profile p : hierarchy.config().profiles().values()) {
      if (p.issuer().equals(ca)) {
        naming.add(p.name());
      }
    }
    return new Plan(
        ca,
        parent,
        caSerial,
        caRow.status() == Status.REVOKED,
        toRevoke,
        store.crls().partitions(ca),
        hierarchy.missing(),
        naming,
        store.certificates().countAwaitingReissue(ca, Instant.now()));
  }

  /**
   * Runs steps 1 to 3. Safe to run again: what is done already is not done twice.
   *
   * @param actor the operator, recorded in every audit event
   */
  public Report execute(String actor, String ca) {
    long started = System.nanoTime();
    Plan plan = plan(ca);
    log.warn("event=ca_compromise_started ca={} certificates={}", ca, plan.toRevoke());
    List<String> published = new ArrayList<>();
    if (!plan.caCertificateRevoked()) {
      try {
        revocations.revoke(actor, plan.parent(), plan.caSerial(), RevocationReason.CA_COMPROMISE);
      } catch (CaException e) {
        if (e.code() != CaException.Code.CONFLICT) {
          throw e;
        }
        // revoked meanwhile by another node or operator: go on
      }
    }
    // Heard at once on this node; the parent's CRL tells relying parties.
    hierarchy.certificateChanged(plan.parent(), plan.caSerial(), Status.REVOKED);
    for (int p : store.crls().partitions(plan.parent())) {
      crls.publishFull(plan.parent(), p);
      published.add(plan.parent() + "/" + p);
    }
    long sweepStarted = System.nanoTime();
    int revoked =
        revocations.revokeAllIssuedBy(actor, ca, RevocationReason.CA_COMPROMISE, PROCEDURE);
    published.addAll(publishAll(ca));
    long toCrls = System.nanoTime() - started;
    long wait = SETTLE.toNanos() - (System.nanoTime() - sweepStarted);
    if (wait > 0) {
      sleep(wait);
    }
    int late = revocations.revokeAllIssuedBy(actor, ca, RevocationReason.CA_COMPROMISE, PROCEDURE);
    if (late > 0) {
      log.warn("event=ca_compromise_late_certificates ca={} count={}", ca, late);
      published.addAll(publishAll(ca));
      toCrls = System.nanoTime() - started;
    }
    List<String> created = plan.toCreate().isEmpty() ? List.of() : hierarchy.init().created();
    long total = System.nanoTime() - started;
    log.warn(
        "event=ca_compromise_done ca={} revoked={} crls={} created={} ms={}",
        ca,
        revoked + late,
        published.size(),
        created.size(),
        total / 1_000_000);
    return new Report(
        plan, revoked + late, published, created, toCrls / 1_000_000, total / 1_000_000);
  }

  private List<String> publishAll(String ca) {
    List<String> out = new ArrayList<>();
    for (int p : store.crls().partitions(ca)) {
      crls.publishFull(ca, p);
      out.add(ca + "/" + p);
    }
    return out;
  }

  /**
   * Step 4, a batch at a time: re-issues up to {@code limit} certificates revoked for the CA's
   * compromise. Refuses before issuing anything when the CA's certificate is not revoked yet (run
   * {@link #execute} first).
   *
   * @throws CaException {@code CONFLICT} when a certificate's profile still names the compromised
   *     CA or names no CA that may issue
   */
  public ReissueBatch reissue(String actor, String ca, int limit) {
    if (limit < 1 || limit > 10_000) {
      throw new CaException(CaException.Code.INVALID_REQUEST, "limit", "must be 1 to 10000");
    }
    hierarchy.issuer(ca);
    if (!hierarchy.revoked(ca)) {
      throw new CaException(
          CaException.Code.CONFLICT,
          "CA " + ca + " is not revoked: run the compromise procedure before re-issuing");
    }
    Map<String, String> done = new java.util.LinkedHashMap<>();
    Map<String, String> passedOver = new java.util.LinkedHashMap<>();
    Instant now = Instant.now();
    for (CertificateRecord old : store.certificates().awaitingReissue(ca, now, limit)) {
      String from = old.issuer() + "/" + old.serial();
      Profile profile = hierarchy.config().profiles().get(old.profile());
      String why =
          profile == null
                  || profile.issuer().equals("*")
                  || profile.channels().equals(java.util.Set.of(Profile.Channel.HIERARCHY))
              ? "service certificate"
              : store.certificates().keyWasRevoked(old.keySha256()) ? "key revoked" : null;
      if (why != null) {
        store.inTransaction(c -> store.certificates().markReissued(c, old, "", "", now));
        passedOver.put(from, why);
        continue;
      }
      IssuanceService.Issued n = issuance.reissue(actor, old);
      String to = n.record().issuer() + "/" + n.record().serial();
      boolean first =
          store.inTransaction(
              c ->
                  store
                      .certificates()
                      .markReissued(c, old, n.record().issuer(), n.record().serial(), now));
      if (!first) {
        log.warn("event=reissued_twice old={} new={}", from, to); // two operators at once
      }
      done.put(from, to);
    }
    return new ReissueBatch(done, passedOver, store.certificates().countAwaitingReissue(ca, now));
  }

  private static void sleep(long nanos) {
    try {
      java.util.concurrent.TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CaException(CaException.Code.UNAVAILABLE, "interrupted");
    }
  }
}
