package io.yinxin.ca.acme;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import io.yinxin.ca.acme.AcmeService.Reply;
import io.yinxin.ca.acme.AcmeStore.Account;
import io.yinxin.ca.acme.AcmeStore.Order;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.issue.Issuer;
import io.yinxin.ca.revoke.RevocationReason;
import io.yinxin.ca.revoke.RevocationService;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import java.io.IOException;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * revokeCert (RFC 8555 §7.6): by the account that ordered the certificate, or by anyone holding the
 * certificate's key.
 */
final class AcmeRevocations {
  private static final List<Long> REASONS = List.of(0L, 1L, 3L, 4L, 5L);

  private final AcmeStore store;
  private final CaStore caStore;
  private final Hierarchy hierarchy;
  private final RevocationService revocation;
  private final AcmeAccounts accounts;

  AcmeRevocations(
      AcmeStore store,
      CaStore caStore,
      Hierarchy hierarchy,
      RevocationService revocation,
      AcmeAccounts accounts) {
    this.store = store;
    this.caStore = caStore;
    this.hierarchy = hierarchy;
    this.revocation = revocation;
    this.accounts = accounts;
  }

  Reply revoke(AcmeJws jws) {
    Map<String, Object> p = jws.json();
    if (!(p.get("certificate") instanceof String certB64)) {
      throw AcmeProblem.malformed("certificate is required (base64url DER)");
    }
    X509CertificateHolder cert;
    byte[] der;
    try {
      der = Base64.getUrlDecoder().decode(certB64);
      cert = new X509CertificateHolder(der);
    } catch (IOException | IllegalArgumentException e) {
      throw AcmeProblem.malformed("certificate is not base64url DER");
    }
    String issuer =
        hierarchy.issuers().stream()
            .filter(i -> i.subject().equals(cert.getIssuer()))
            .map(Issuer::name)
            .findFirst()
            .orElseThrow(() -> AcmeProblem.notFound("this CA did not issue that certificate"));
    String serial = cert.getSerialNumber().toString(16);
    CertificateRecord rec =
        caStore
            .certificates()
            .certificate(issuer, serial)
            .filter(r -> Arrays.equals(r.der(), der))
            .orElseThrow(() -> AcmeProblem.notFound("this CA did not issue that certificate"));
    String actor;
    if (jws.jwk().isPresent()) {
      JWK jwk = jws.jwk().get();
      jws.verify(jwk);
      if (!Arrays.equals(publicKeyDer(jwk), subjectKeyDer(cert))) {
        throw AcmeProblem.unauthorized("the jwk is not the certificate's key");
      }
      actor = "acme:certificate-key";
    } else {
      Account acct = accounts.signer(jws);
      Order o =
          store
              .orderForCertificate(issuer, serial)
              .orElseThrow(
                  () -> AcmeProblem.unauthorized("the certificate was not issued by ACME"));
      if (!o.accountId().equals(acct.id())) {
        throw AcmeProblem.unauthorized("the certificate belongs to another account");
      }
      actor = "acme:" + acct.id();
    }
    long code = 0;
    if (p.get("reason") instanceof Number n && (n instanceof Integer || n instanceof Long)) {
      code = n.longValue(); // never narrowed: 4294967297 is not reason 1
    } else if (p.containsKey("reason")) {
      throw new AcmeProblem("badRevocationReason", 400, "reason must be an integer");
    }
    if (!REASONS.contains(code)) {
      throw new AcmeProblem("badRevocationReason", 400, "reason: 0, 1, 3, 4 or 5 (RFC 8555 §7.6)");
    }
    if (rec.status() == CertificateRecord.Status.REVOKED) {
      throw new AcmeProblem("alreadyRevoked", 400, "the certificate is revoked already");
    }
    revocation.revoke(actor, issuer, serial, RevocationReason.ofCode((int) code).rfcName());
    return new Reply(200, Optional.empty(), List.of(), new byte[0], "application/json");
  }

  /** The key's SubjectPublicKeyInfo DER; badPublicKey if it is not an EC or RSA public key. */
  static byte[] publicKeyDer(JWK jwk) {
    try {
      if (jwk instanceof ECKey ec) {
        return ec.toECPublicKey().getEncoded();
      }
      if (jwk instanceof RSAKey rsa) {
        return rsa.toRSAPublicKey().getEncoded();
      }
    } catch (JOSEException e) {
      throw new AcmeProblem("badPublicKey", 400, "the jwk does not convert to a public key");
    }
    throw new AcmeProblem("badPublicKey", 400, "unsupported key type");
  }

  private static byte[] subjectKeyDer(X509CertificateHolder cert) {
    try {
      return cert.getSubjectPublicKeyInfo().getEncoded();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
