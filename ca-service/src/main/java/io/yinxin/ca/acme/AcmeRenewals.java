package io.yinxin.ca.acme;

import io.yinxin.ca.acme.AcmeService.Reply;
import io.yinxin.ca.acme.AcmeStore.Account;
import io.yinxin.ca.acme.AcmeStore.Order;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * ACME Renewal Information (RFC 9773): when a certificate this server issued should be renewed, and
 * which certificate an order replaces.
 *
 * <p>A certificate is named by its certID: the base64url (unpadded) of its Authority Key
 * Identifier's keyIdentifier, ".", and the base64url of its serial number's DER content octets.
 * Only the one canonical spelling of each is accepted: no padding, no bits set past the last octet,
 * a serial in its minimal two's complement form and positive — anything else names no certificate
 * and is {@code malformed} (400). A certID that parses but names no certificate issued through this
 * ACME server is 404.
 *
 * <p>The suggested window of a certificate in good standing is the third quarter-and-a-bit of its
 * validity: from two thirds to three quarters of the way from notBefore to notAfter (for 90 days,
 * days 60 to 67½), so clients renew well before expiry and their renewals spread over a week. A
 * certificate that is revoked or on hold, or whose issuing CA's own certificate is, should be
 * replaced now: its window lies wholly in the past (two days to one day ago, so a client whose
 * clock runs up to a day behind still sees it as past) and names the CA's page as the explanation.
 * This is how the CA tells ACME clients to replace what a CA compromise ({@code emergency
 * ca-compromise}) or a key compromise revoked, without waiting for them to notice.
 */
final class AcmeRenewals {
  /** How often clients should ask again (RFC 9773 §4.3: the desired interval). */
  static final long RETRY_AFTER_SECONDS = Duration.ofHours(6).toSeconds();

  /** How long a shared cache may keep an answer: shorter than the poll, so a revocation shows. */
  static final long CACHE_SECONDS = Duration.ofHours(1).toSeconds();

  /** Longest part of a certID: a 64-octet key identifier or serial. */
  private static final int MAX_PART = 86;

  /** A certID, parsed. */
  record CertId(byte[] keyIdentifier, BigInteger serial, String text) {}

  /** A certificate this server issued through ACME, and the order it was issued for. */
  record Issued(CertificateRecord record, Order order) {}

  /** A suggested renewal window; {@code now}: the certificate should be replaced at once. */
  record Window(Instant start, Instant end, boolean now) {}

  private final AcmeStore store;
  private final CaStore caStore;
  private final Hierarchy hierarchy;
  private final AcmeViews views;
  private final Supplier<Instant> clock;

  AcmeRenewals(
      AcmeStore store,
      CaStore caStore,
      Hierarchy hierarchy,
      AcmeViews views,
      Supplier<Instant> clock) {
    this.store = store;
    this.caStore = caStore;
    this.hierarchy = hierarchy;
    this.views = views;
    this.clock = clock;
  }

  /** Parses a certID, refusing every spelling but the canonical one. */
  static CertId parse(String text) {
    if (text == null) {
      throw AcmeProblem.malformed("a certID is keyIdentifier.serial, each base64url");
    }
    int dot = text.indexOf('.');
    if (dot < 1
        || dot != text.lastIndexOf('.')
        || dot == text.length() - 1
        || dot > MAX_PART
        || text.length() - dot - 1 > MAX_PART) {
      throw AcmeProblem.malformed("a certID is keyIdentifier.serial, each base64url");
    }
    byte[] aki = unpadded(text.substring(0, dot));
    byte[] serial = unpadded(text.substring(dot + 1));
    boolean minimal =
        serial.length == 1
            || !((serial[0] == 0 && serial[1] >= 0) || (serial[0] == -1 && serial[1] < 0));
    if (!minimal || serial[0] < 0) {
      throw AcmeProblem.malformed("the certID's serial is not a positive DER INTEGER's octets");
    }
    return new CertId(aki, new BigInteger(serial), text);
  }

  /** A non-empty part of a certID, in unpadded base64url's one canonical spelling. */
  private static byte[] unpadded(String s) {
    if (!s.matches("[A-Za-z0-9_-]+")) {
      throw AcmeProblem.malformed("the certID is not unpadded base64url");
    }
    return AcmeProblem.canonicalBase64Url(s, "the certID");
  }

  /**
   * The certificate a certID names, if this server issued it through ACME. Only the CAs whose own
   * subject key identifier is the certID's are looked in (a replaced CA keeps its name and key, its
   * replacement is another CA), so a request with a made-up key identifier costs no query.
   */
  Optional<Issued> find(CertId id) {
    String serial = id.serial().toString(16);
    for (var ca : hierarchy.issuers()) {
      if (!ca.hasSubjectKeyIdentifier()
          || !Arrays.equals(
              ca.authorityKeyIdentifier().getKeyIdentifierOctets(), id.keyIdentifier())) {
        continue;
      }
      Optional<CertificateRecord> r = caStore.certificates().certificate(ca.name(), serial);
      if (r.isEmpty() || !Arrays.equals(keyIdentifier(r.get().der()), id.keyIdentifier())) {
        continue;
      }
      Optional<Order> o = store.orderForCertificate(ca.name(), serial);
      if (o.isPresent()) {
        return Optional.of(new Issued(r.get(), o.get()));
      }
    }
    return Optional.empty();
  }

  private static byte[] keyIdentifier(byte[] der) {
    try {
      AuthorityKeyIdentifier aki =
          AuthorityKeyIdentifier.fromExtensions(new X509CertificateHolder(der).getExtensions());
      return aki == null ? null : aki.getKeyIdentifierOctets();
    } catch (java.io.IOException e) {
      return null;
    }
  }

  /** The window in which a certificate should be renewed. */
  Window window(CertificateRecord r) {
    Instant now = clock.get().truncatedTo(ChronoUnit.SECONDS);
    if (r.status() != CertificateRecord.Status.VALID || hierarchy.revoked(r.issuer())) {
      return new Window(now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)), true);
    }
    long life = Duration.between(r.notBefore(), r.notAfter()).toSeconds();
    Instant start = r.notBefore().plusSeconds(life * 2 / 3);
    Instant end = r.notBefore().plusSeconds(life * 3 / 4);
    if (!end.isAfter(start)) {
      end = start.plusSeconds(1);
    }
    return new Window(start, end, false);
  }

  /** GET {renewalInfo}/{certID}: the RenewalInfo object. */
  Reply renewalInfo(String certId) {
    Issued found =
        find(parse(certId))
            .orElseThrow(() -> AcmeProblem.notFound("no certificate issued here has this certID"));
    Window w = window(found.record());
    Map<String, Object> window = new LinkedHashMap<>();
    window.put("start", w.start().toString());
    window.put("end", w.end().toString());
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("suggestedWindow", window);
    if (w.now()) {
      body.put("explanationURL", views.website());
    }
    return AcmeViews.json(200, Optional.empty(), List.of(), body);
  }

  /**
   * The certificate a new order says it replaces ({@code replaces}, RFC 9773 §5), checked: one this
   * server issued through ACME, to the same account, sharing a name with the order. Whether another
   * order replaces it already is decided when the order is stored ({@link AcmeStore#insertOrder}),
   * on every node alike.
   */
  Replacing replacing(Account acct, Object field, Collection<String> names) {
    if (!(field instanceof String text)) {
      throw AcmeProblem.malformed("replaces is a certID string");
    }
    Issued found =
        find(parse(text))
            .orElseThrow(
                () -> AcmeProblem.malformed("replaces names no certificate this server issued"));
    if (!found.order().accountId().equals(acct.id())) {
      throw AcmeProblem.unauthorized("the certificate to replace belongs to another account");
    }
    if (found.order().identifiers().stream().noneMatch(names::contains)) {
      throw AcmeProblem.malformed("the order shares no name with the certificate it replaces");
    }
    Window w = window(found.record());
    return new Replacing(
        found.record().issuer(), found.record().serial(), text, !clock.get().isBefore(w.start()));
  }

  /**
   * An order's predecessor: which certificate, its certID as the client sent it, and whether the
   * order came in the certificate's window (such a renewal does not count against the account's new
   * orders, as Let's Encrypt exempts renewals made when ARI suggests).
   */
  record Replacing(String issuer, String serial, String certId, boolean inWindow) {}
}
