package io.yinxin.audit.spring;

import io.yinxin.hsm.KeyRef;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code yinxin.audit.*}.
 *
 * @param enabled host the log on this node
 * @param origin the log's name in checkpoints (a schema-less URL), also the checkpoint key's name
 * @param checkpointKey the Ed25519 key that signs checkpoints; created on first start if missing
 * @param checkpointInterval how often a new checkpoint is considered
 * @param maxBatch most entries integrated in one transaction
 * @param queueCapacity appends waiting at most
 * @param witnesses verifier keys ({@code name+id+base64}, type 0x04) whose cosignatures are
 *     accepted
 * @param auditorTokenSha256 hex SHA-256 of the bearer token that may request evidence bundles
 * @param writerTokenSha256 hex SHA-256 of the bearer token that may append over HTTP
 * @param adminTokenSha256 hex SHA-256 of the bearer token that may rotate the checkpoint key (the
 *     emergency procedure; scope {@code audit:admin} for issuer tokens)
 * @param generateDevTokens when no hashes are configured, create random tokens under the data
 *     directory (development only)
 * @param issuerUri an OAuth2/OpenID issuer (e.g. the SSO module's) whose access tokens with scope
 *     {@code audit:write} (appends) or {@code audit:read} (bundles, check) are accepted beside the
 *     configured tokens; empty for none
 * @param tsaUrl an RFC 3161 time-stamp authority (HTTP POST) that stamps every new checkpoint;
 *     empty: checkpoints carry no trusted time
 * @param tsaCertificate PEM file of the TSA certificate, or of the CA that issues it, that every
 *     time-stamp token must be signed by; empty: any token whose own certificate verifies it
 * @param tsaTimeout longest wait for the TSA
 * @param encryptEvents store private event rows encrypted (AES-256-GCM under an event key wrapped
 *     by {@code data-key}); rows written in clear before stay readable
 * @param dataKey the data protection key that wraps the event key: a key URI; empty for {@code
 *     <checkpoint key's backend>:audit-events} (on a PKCS#11 token, the checkpoint key's token).
 *     Created on first start if missing
 * @param dataKeyType the type of that key when it is created: {@code AES_256_GCM} (every backend)
 *     or {@code SM4_GCM} (soft backend)
 */
@ConfigurationProperties("yinxin.audit")
public record AuditProperties(
    @DefaultValue("true") boolean enabled,
    @DefaultValue("yinxin.localhost/audit") String origin,
    @DefaultValue("soft:audit-checkpoint") String checkpointKey,
    @DefaultValue("250ms") Duration checkpointInterval,
    @DefaultValue("2000") int maxBatch,
    @DefaultValue("100000") int queueCapacity,
    @DefaultValue List<String> witnesses,
    @DefaultValue("") String auditorTokenSha256,
    @DefaultValue("") String writerTokenSha256,
    @DefaultValue("") String adminTokenSha256,
    @DefaultValue("false") boolean generateDevTokens,
    @DefaultValue("") String issuerUri,
    @DefaultValue("") String tsaUrl,
    @DefaultValue("") String tsaCertificate,
    @DefaultValue("10s") Duration tsaTimeout,
    @DefaultValue("true") boolean encryptEvents,
    @DefaultValue("") String dataKey,
    @DefaultValue("AES_256_GCM") io.yinxin.hsm.DataKeySpec dataKeyType) {

  /** The data protection key that wraps the event key. */
  public KeyRef eventDataKey() {
    return dataKey(dataKey, checkpointKey, "audit-events");
  }

  /**
   * {@code configured} when set, else the key {@code label} of the checkpoint key's backend (on a
   * PKCS#11 token, the checkpoint key's token).
   */
  static KeyRef dataKey(String configured, String checkpointKey, String label) {
    if (!configured.isBlank()) {
      return KeyRef.parse(configured);
    }
    KeyRef checkpoint = KeyRef.parse(checkpointKey);
    return switch (checkpoint.scheme()) {
      case PKCS11 -> KeyRef.pkcs11(checkpoint.token(), label);
      case VAULT_TRANSIT -> KeyRef.vault(label);
      default -> KeyRef.soft(label);
    };
  }
}
