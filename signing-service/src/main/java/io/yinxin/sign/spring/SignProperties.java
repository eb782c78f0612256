package io.yinxin.sign.spring;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code yinxin.sign.*}.
 *
 * @param enabled host the signing service on this node
 * @param tsa the RFC 3161 time-stamping authority
 * @param defaultLevel the PAdES level when a request names none
 * @param maxDocumentBytes larger documents are refused (413) without being read further
 * @param maxBatchDocuments documents one batch request may hold
 * @param maxSignatures documents with more signatures (and document time-stamps) are not validated
 *     (413)
 * @param concurrentValidations validations at once (0: the number of processors); one more is
 *     answered 503 with Retry-After at once
 * @param concurrentValidationsPerAddress validations one client address (IPv6: one /64) may have in
 *     work at once (0: half of {@code concurrentValidations}, rounded up); one more from that
 *     address is answered 429 with Retry-After at once, and the other addresses keep the rest
 * @param concurrentSeals documents sealed at once (0: twice the number of processors); one more
 *     waits up to {@code sealWait} for its turn, then is answered 503 with Retry-After
 * @param concurrentSealsPerCaller documents one authenticated caller may have in work at once (0:
 *     half of {@code concurrentSeals}, rounded up); one more from that caller is answered 429 with
 *     Retry-After at once, and the other callers keep the rest
 * @param sealWait how long a seal request waits for its turn
 * @param maxDecodedBytes the most bytes a document's compressed streams may decode to, all of them
 *     together, in one seal or validation (more: 413); see {@code DecodeBudget}
 * @param sealFont the CJK font drawn seals embed: a .ttf, or a .ttc with {@code #Name}; empty for
 *     AR PL UMing or WenQuanYi Zen Hei from Debian's packages
 * @param callers bearer-token callers of the seal API and their scopes
 * @param issuerUri an OAuth2/OpenID issuer whose access tokens (JWT) the seal API accepts instead
 *     of the configured callers: scope {@code seal:use} / {@code seal:admin}, seals granted to the
 *     token's subject or client
 * @param trustAnchors PEM files of the certificates validation trusts; empty for the CA hierarchy's
 *     roots on a node that runs the CA
 * @param generateDevToken when no callers are configured, create one with every scope under the
 *     data directory (development only)
 * @param csc remote hash signing by the Cloud Signature Consortium API v2
 */
@ConfigurationProperties("yinxin.sign")
public record SignProperties(
    @DefaultValue("true") boolean enabled,
    @DefaultValue Tsa tsa,
    @DefaultValue("B-LT") String defaultLevel,
    @DefaultValue("104857600") long maxDocumentBytes,
    @DefaultValue("1000") int maxBatchDocuments,
    @DefaultValue("134217728") long maxDecodedBytes,
    @DefaultValue("100") int maxSignatures,
    @DefaultValue("0") int concurrentValidations,
    @DefaultValue("0") int concurrentValidationsPerAddress,
    @DefaultValue("0") int concurrentSeals,
    @DefaultValue("0") int concurrentSealsPerCaller,
    @DefaultValue("30s") Duration sealWait,
    @DefaultValue("") String sealFont,
    @DefaultValue List<io.yinxin.sign.http.SignCallers.Caller> callers,
    @DefaultValue("") String issuerUri,
    @DefaultValue List<String> trustAnchors,
    @DefaultValue("false") boolean generateDevToken,
    @DefaultValue Csc csc) {

  /**
   * {@code yinxin.sign.csc.*}.
   *
   * @param enabled serve {@code /csc/v2/...}
   * @param sadLifetime how long a SAD from {@code credentials/authorize} may be spent
   */
  public record Csc(
      @DefaultValue("true") boolean enabled, @DefaultValue("5m") Duration sadLifetime) {}

  /**
   * {@code yinxin.sign.tsa.*}.
   *
   * @param enabled serve {@code POST /tsa}
   * @param key the TSA key (a key URI); empty to take the CA hierarchy's {@code tsa} service
   *     certificate on a node that runs the CA (the embedded default)
   * @param certificateChain PEM file with the TSA certificate first, then its issuers (with {@code
   *     key})
   * @param policy the TSA policy OID every token names. The default is a UUID-based OID (ITU-T
   *     X.667, arc 2.25) for the embedded default; production sets its own published policy
   * @param accuracy the accuracy every token states (0 to leave it out)
   * @param maxRequestBytes a longer request body is refused (413) without being read further
   * @param sm2Key an SM2 TSA key (a key URI) that stamps SM3 imprints (GB/T 20520, the time-stamps
   *     of SM2 seals); empty for the CA hierarchy's {@code tsa-sm2} service certificate on a node
   *     that runs the CA
   * @param sm2CertificateChain PEM file with the SM2 TSA certificate first (with {@code sm2Key})
   * @param keyUseInterval how often the tokens signed are recorded, as one {@code KEY_USED} audit
   *     event per TSA key with their count and serial range (not one event per token: anyone can
   *     ask for tokens)
   * @param limits {@code yinxin.sign.tsa.limits.*}: requests per client address and per node (every
   *     token is a signature anyone may ask for); over a limit 429 with Retry-After
   */
  public record Tsa(
      @DefaultValue("true") boolean enabled,
      @DefaultValue("") String key,
      @DefaultValue("") String certificateChain,
      @DefaultValue("2.25.151273881000609895990087799822618610281") String policy,
      @DefaultValue("1s") Duration accuracy,
      @DefaultValue("16384") int maxRequestBytes,
      @DefaultValue("") String sm2Key,
      @DefaultValue("") String sm2CertificateChain,
      @DefaultValue("1m") Duration keyUseInterval,
      @DefaultValue io.yinxin.audit.access.AddressLimitSettings limits) {}
}
