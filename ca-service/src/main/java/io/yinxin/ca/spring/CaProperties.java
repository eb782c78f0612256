package io.yinxin.ca.spring;

import io.yinxin.ca.http.CaOperators;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code yinxin.ca.*}.
 *
 * @param enabled host the CA on this node
 * @param hierarchyFile the hierarchy and profiles YAML; empty for the built-in default
 * @param keyBackend where new CA and service keys are created: {@code soft}, {@code pkcs11} or
 *     {@code vault-transit} (SM2 keys always go to {@code soft})
 * @param publicUrl the base URL written into certificates (CRL, OCSP, CA certificate URLs); empty
 *     for {@code http://<server.address>:<server.port>}
 * @param initOnStart create missing CAs at start-up (the embedded default); otherwise run {@code
 *     yinxin ca init}
 * @param crlPartitionSize certificates per CRL partition
 * @param crlValidity full CRL lifetime (nextUpdate − thisUpdate)
 * @param deltaCrlValidity delta CRL lifetime
 * @param rootCrlValidity lifetime of a root's CRL (roots publish full CRLs only, rarely: the root
 *     key is meant to be used seldom)
 * @param crlCheckInterval how often CRLs are refreshed (and a delta published after a revocation)
 * @param ocspValidity OCSP response lifetime (thisUpdate → nextUpdate): 24 h by default, within the
 *     CA/Browser Forum's 8 h – 10 days for the TLS hierarchy and as fresh as the citizen hierarchy
 *     needs (HTTP caches keep a GET answer at most an hour)
 * @param ocspRefreshBefore cached OCSP responses are re-signed this long before nextUpdate, so a
 *     client always gets at least this much validity
 * @param ocspCacheSize how many typical answers the OCSP cache holds (bounded by bytes)
 * @param ocspLimits {@code yinxin.ca.ocsp-limits.*}: OCSP answers signed on request (one with a
 *     nonce, one about several certificates, the first answer for a certificate, any answer for a
 *     serial never issued), per node; cached answers are never limited
 * @param ocspKeyUseInterval how often the OCSP signatures made are recorded, as one {@code
 *     KEY_USED} audit event per signer key with their count
 * @param serviceRenewalInterval how often this node checks whether an OCSP signer or TSA
 *     certificate has less than 30 days left (and renews it, or loads another node's renewal)
 * @param operators registration-authority operators and their scopes
 * @param generateDevToken when no operators are configured, create one with every scope under the
 *     data directory (development only)
 * @param issuerUri an OAuth2/OpenID issuer (e.g. the SSO module's) whose access tokens with {@code
 *     ca:*} scopes are accepted beside the configured operators; empty for none
 * @param acme the ACME server
 */
@ConfigurationProperties("yinxin.ca")
public record CaProperties(
    @DefaultValue("true") boolean enabled,
    @DefaultValue("") String hierarchyFile,
    @DefaultValue("soft") String keyBackend,
    @DefaultValue("") String publicUrl,
    @DefaultValue("false") boolean initOnStart,
    @DefaultValue("100000") int crlPartitionSize,
    @DefaultValue("24h") Duration crlValidity,
    @DefaultValue("1h") Duration deltaCrlValidity,
    @DefaultValue("30d") Duration rootCrlValidity,
    @DefaultValue("10s") Duration crlCheckInterval,
    @DefaultValue("24h") Duration ocspValidity,
    @DefaultValue("8h") Duration ocspRefreshBefore,
    @DefaultValue("1000000") int ocspCacheSize,
    @DefaultValue io.yinxin.audit.access.AddressLimitSettings ocspLimits,
    @DefaultValue("1m") Duration ocspKeyUseInterval,
    @DefaultValue("1h") Duration serviceRenewalInterval,
    @DefaultValue List<CaOperators.Operator> operators,
    @DefaultValue("false") boolean generateDevToken,
    @DefaultValue("") String issuerUri,
    @DefaultValue Acme acme) {

  /**
   * {@code yinxin.ca.acme.*}: the RFC 8555 server for TLS server certificates.
   *
   * @param enabled serve {@code /acme}
   * @param profile the profile certificates are issued under (one whose channels include acme)
   * @param allowLocalhost accept names under {@code .localhost}, validated on the loopback address
   *     (the embedded default; off in production)
   * @param allowedDomains domains (and their subdomains) the CA may issue for
   * @param http01Port where http-01 challenges are fetched (80, as RFC 8555 says; other values for
   *     tests)
   * @param rateLimits {@code yinxin.ca.acme.rate-limits.*}
   * @param externalAccountRequired open ACME accounts only with an external account binding (RFC
   *     8555 §7.3.4) whose key an operator made ({@code POST /ca/v1/acme/eab-keys})
   */
  public record Acme(
      @DefaultValue("true") boolean enabled,
      @DefaultValue("server-tls-acme") String profile,
      @DefaultValue("false") boolean allowLocalhost,
      @DefaultValue List<String> allowedDomains,
      @DefaultValue("80") int http01Port,
      @DefaultValue RateLimits rateLimits,
      @DefaultValue("false") boolean externalAccountRequired) {}

  /**
   * ACME rate limits: requests per node (a client behind a load balancer with n nodes may send n
   * times those), the hourly ones for all nodes on the database together.
   *
   * @param requestsPerSecond requests (signed POSTs and new-nonce) per source address (IPv6: per
   *     /64) per second
   * @param requestBurst how many requests an address may send at once
   * @param newAccountsPerHour accounts one address may create per hour
   * @param newAccountsPerIpv6RangePerHour accounts all addresses of one IPv6 /48 may create per
   *     hour together
   * @param newOrdersPerHour orders one account may create per hour
   * @param failedValidationsPerHour failed challenge validations one account may have per hour
   */
  public record RateLimits(
      @DefaultValue("20") int requestsPerSecond,
      @DefaultValue("100") int requestBurst,
      @DefaultValue("50") int newAccountsPerHour,
      @DefaultValue("200") int newAccountsPerIpv6RangePerHour,
      @DefaultValue("300") int newOrdersPerHour,
      @DefaultValue("30") int failedValidationsPerHour) {}
}
