package io.yinxin.ca.revoke;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import io.yinxin.ca.CaException;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import io.yinxin.ca.store.CertificateRecord.Status;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Revokes, holds and releases certificates. Each change and its audit event are one transaction
 * (the event goes into the log's outbox), so the log never records a change that rolled back and no
 * connection is held while the log integrates; listeners (the OCSP cache) hear of the change right
 * after it commits, and the caller is answered once its evidence is durable in the log.
 */
public final class RevocationService {
  private static final Logger log = LoggerFactory.getLogger(RevocationService.class);

  private final CaStore store;
  private final AuditOutbox audit;
  private final List<Consumer<CertificateRecord>> listeners = new CopyOnWriteArrayList<>();

  public RevocationService(CaStore store, AuditOutbox audit) {
    this.store = store;
    this.audit = audit;
  }

  /** Called with the certificate as it is now (its new status) after every committed change. */
  public void onChange(Consumer<CertificateRecord> listener) {
    listeners.add(listener);
  }

  /**
   * Revokes a certificate, or puts it on hold when the reason is {@code certificateHold}. A
   * certificate on hold may be revoked for good.
   *
   * @throws CaException {@code NOT_FOUND}, {@code CONFLICT} (already revoked, or on hold twice),
   *     {@code INVALID_REQUEST} (reason)
   */
  public CertificateRecord revoke(String actor, String issuer, String serial, String reasonName) {
    return revoke(
        actor, issuer, serial, RevocationReason.forRevocation(reasonName), Optional.empty());
  }

  /**
   * Revokes with an RFC 5280 invalidity date: when the key is known or suspected to have been
   * compromised, so that relying parties keep trusting what it signed before then.
   *
   * @throws CaException {@code INVALID_REQUEST} for an invalidity date in the future or with a hold
   */
  public CertificateRecord revoke(
      String actor, String issuer, String serial, String reasonName, Optional<Instant> invalidity) {
    return revoke(actor, issuer, serial, RevocationReason.forRevocation(reasonName), invalidity);
  }

  /**
   * Revokes with any reason, {@code cACompromise} included: for the emergency procedures, which
   * revoke a CA's own certificate.
   */
  public CertificateRecord revoke(
      String actor, String issuer, String serial, RevocationReason reason) {
    return revoke(actor, issuer, serial, reason, Optional.empty());
  }

  /** Revokes with any reason and an optional invalidity date (the emergency procedures). */
  public CertificateRecord revoke(
      String actor,
      String issuer,
      String serial,
      RevocationReason reason,
      Optional<Instant> invalidityDate) {
    String s = normalizeSerial(serial);
    Optional<Instant> invalidity = invalidityDate.map(t -> t.truncatedTo(ChronoUnit.SECONDS));
    if (invalidity.isPresent()) {
      if (reason == RevocationReason.CERTIFICATE_HOLD) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST, "invalidityDate", "does not go with a hold");
      }
      if (invalidity.get().isAfter(Instant.now())) {
        throw new CaException(
            CaException.Code.INVALID_REQUEST, "invalidityDate", "must not be in the future");
      }
    }
    Map<String, String> attributes = new java.util.LinkedHashMap<>();
    attributes.put("reason", reason.rfcName());
    invalidity.ifPresent(t -> attributes.put("invalidityDate", t.toString()));
    Status to = reason == RevocationReason.CERTIFICATE_HOLD ? Status.ON_HOLD : Status.REVOKED;
    Instant at = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    AuditOutbox.Pending[] evidence = new AuditOutbox.Pending[1];
    CertificateRecord r =
        store
            .certificates()
            .changeStatus(
                issuer,
                s,
                to,
                reason.code(),
                at,
                invalidity,
                (c, row) -> {
                  attributes.put("profile", row.profile());
                  evidence[0] =
                      audit.record(
                          c,
                          new AuditEvent(
                              EventType.CERT_REVOKED,
                              actor,
                              issuer + "/" + s,
                              at,
                              attributes,
                              Optional.empty()));
                });
    log.info("event=cert_revoked issuer={} serial={} reason={}", issuer, s, reason.rfcName());
    io.yinxin.ca.CaMetrics.revoked(issuer, reason.rfcName());
    notify(r);
    audit.await(evidence[0]);
    return r;
  }

  /**
   * Revokes every certificate {@code issuer} issued that is valid or on hold, with {@code reason},
   * in one transaction with one CERT_REVOKED event per certificate (all or none); answers once the
   * last event is durable in the log. Certificates issued while this runs are not included: call
   * again once the CA issues nothing (it returns 0 when nothing was left).
   *
   * @return how many certificates were revoked
   */
  public int revokeAllIssuedBy(
      String actor, String issuer, RevocationReason reason, String procedure) {
    Instant at = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    AuditOutbox.Pending[] last = new AuditOutbox.Pending[1];
    List<CertificateRecord> revoked =
        store.inTransaction(
            c -> {
              List<CertificateRecord> rows =
                  store.certificates().revokeAllIssuedBy(c, issuer, reason.code(), at);
              for (CertificateRecord row : rows) {
                last[0] =
                    audit.record(
                        c,
                        new AuditEvent(
                            EventType.CERT_REVOKED,
                            actor,
                            issuer + "/" + row.serial(),
                            at,
                            Map.of(
                                "reason",
                                reason.rfcName(),
                                "profile",
                                row.profile(),
                                "procedure",
                                procedure),
                            Optional.empty()));
              }
              return rows;
            });
    log.info(
        "event=certs_revoked_in_bulk issuer={} count={} reason={} procedure={}",
        issuer,
        revoked.size(),
        reason.rfcName(),
        procedure);
    io.yinxin.ca.CaMetrics.revoked(issuer, reason.rfcName(), revoked.size());
    for (CertificateRecord r : revoked) {
      notify(r);
    }
    if (last[0] != null) {
      audit.await(last[0]); // the outbox is integrated in order: the rest is in the log too
    }
    return revoked.size();
  }

  /** Releases a certificate from hold: it is valid again and leaves the CRL. */
  public CertificateRecord release(String actor, String issuer, String serial) {
    String s = normalizeSerial(serial);
    Instant at = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    AuditOutbox.Pending[] evidence = new AuditOutbox.Pending[1];
    CertificateRecord r =
        store
            .certificates()
            .changeStatus(
                issuer,
                s,
                Status.VALID,
                RevocationReason.REMOVE_FROM_CRL.code(),
                at,
                (c, row) ->
                    evidence[0] =
                        audit.record(
                            c,
                            new AuditEvent(
                                EventType.CERT_HOLD_RELEASED,
                                actor,
                                issuer + "/" + s,
                                at,
                                Map.of("profile", row.profile()),
                                Optional.empty())));
    log.info("event=cert_released issuer={} serial={}", issuer, s);
    notify(r);
    audit.await(evidence[0]);
    return r;
  }

  private void notify(CertificateRecord changed) {
    for (Consumer<CertificateRecord> l : listeners) {
      l.accept(changed);
    }
  }

  /**
   * A serial as the API accepts it: hex, optionally with colons, any case; stored as lower-case hex
   * without leading zeros.
   */
  public static String normalizeSerial(String serial) {
    String s = serial == null ? "" : serial.replace(":", "").toLowerCase(java.util.Locale.ROOT);
    if (!s.matches("[0-9a-f]{1,64}")) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST, "serial", "must be 1-64 hexadecimal digits");
    }
    s = s.replaceFirst("^0+(?=.)", "");
    return s;
  }
}
