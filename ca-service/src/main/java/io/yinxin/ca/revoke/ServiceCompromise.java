package io.yinxin.ca.revoke;

import io.yinxin.ca.CaException;
import io.yinxin.ca.Pem;
import io.yinxin.ca.crl.CrlService;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.store.AuthorityStore.ServiceRecord;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The emergency procedure for a compromised service key: the TSA's ({@code tsa}, {@code tsa-sm2})
 * or a CA's delegated OCSP signer's ({@code ocsp-NAME}). In order: a new key and certificate from
 * the same CA, used by this node at once; the old certificate revoked with reason {@code
 * keyCompromise} and an RFC 5280 invalidity date, the time from which the old key is distrusted
 * (every node switches when it hears of the revocation); the CA's CRL published. What the old key
 * signed before the invalidity date stays verifiable: the old certificate, its chain and the CRL
 * saying from when it is distrusted are all public, and validators that honour invalidityDate (EN
 * 319 102-1) keep accepting the time-stamps and OCSP answers it made before then.
 */
public final class ServiceCompromise {
  private static final Logger log = LoggerFactory.getLogger(ServiceCompromise.class);

  private final Hierarchy hierarchy;
  private final CaStore store;
  private final RevocationService revocations;
  private final CrlService crls;

  public ServiceCompromise(
      Hierarchy hierarchy, CaStore store, RevocationService revocations, CrlService crls) {
    this.hierarchy = hierarchy;
    this.store = store;
    this.revocations = revocations;
    this.crls = crls;
  }

  /**
   * What would happen, or happened.
   *
   * @param service the service ({@code tsa}, {@code ocsp-citizen})
   * @param issuer the CA that issued its certificate
   * @param oldSerial the compromised certificate
   * @param distrustedFrom the invalidity date: the old key's signatures from then on are not
   *     trusted
   * @param newSerial the replacement (empty in a dry run)
   * @param newCertificate its PEM (empty in a dry run): publish it to relying parties
   */
  public record Report(
      String service,
      String issuer,
      String oldSerial,
      Instant distrustedFrom,
      Optional<String> newSerial,
      Optional<String> newCertificate) {}

  /** The dry run: changes nothing. */
  public Report plan(String service, Instant since) {
    ServiceRecord s = current(service, since);
    return new Report(
        service,
        s.issuer(),
        s.serial(),
        since.truncatedTo(ChronoUnit.SECONDS),
        Optional.empty(),
        Optional.empty());
  }

  /**
   * Replaces the service's key and certificate, revokes the old one from {@code since}, publishes
   * the CRL.
   */
  public Report execute(String actor, String service, Instant since) {
    ServiceRecord old = current(service, since);
    Hierarchy.ServiceKey fresh = hierarchy.replaceService(actor, service);
    try {
      revocations.revoke(
          actor, old.issuer(), old.serial(), RevocationReason.KEY_COMPROMISE, Optional.of(since));
    } catch (CaException e) {
      if (e.code() != CaException.Code.CONFLICT) {
        throw e;
      }
      // revoked already (by an operator, or an earlier run): the replacement stands
    }
    int partition =
        store
            .certificates()
            .certificate(old.issuer(), old.serial())
            .map(CertificateRecord::partition)
            .orElse(0);
    crls.publishFull(old.issuer(), partition);
    log.warn(
        "event=service_key_compromised name={} old={} new={} distrusted_from={}",
        service,
        old.serial(),
        fresh.certificate().getSerialNumber().toString(16),
        since);
    try {
      return new Report(
          service,
          old.issuer(),
          old.serial(),
          since.truncatedTo(ChronoUnit.SECONDS),
          Optional.of(fresh.certificate().getSerialNumber().toString(16)),
          Optional.of(Pem.certificate(fresh.certificate().getEncoded())));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private ServiceRecord current(String service, Instant since) {
    if (since.isAfter(Instant.now())) {
      throw new CaException(CaException.Code.INVALID_REQUEST, "since", "must not be in the future");
    }
    return store
        .authorities()
        .service(service)
        .orElseThrow(() -> new CaException(CaException.Code.NOT_FOUND, "no such service"));
  }
}
