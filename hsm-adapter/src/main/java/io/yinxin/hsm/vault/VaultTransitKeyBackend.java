package io.yinxin.hsm.vault;

import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.github.jopenlibs.vault.VaultException;
import io.github.jopenlibs.vault.json.Json;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import io.github.jopenlibs.vault.response.LogicalResponse;
import io.yinxin.hsm.KeyBackend;
import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyException.Code;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.PublicKeys;
import io.yinxin.hsm.Secret;
import io.yinxin.hsm.SignatureAlgorithm;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/**
 * Keys in HashiCorp Vault's Transit secrets engine, through the Vault Java driver.
 *
 * <p>Traps this class avoids: the driver defaults to the KV v2 path layout ({@code
 * transit/data/...}, a 404 on a real Vault), so the engine version is pinned to 1; the driver
 * returns 4xx answers without throwing, so every status is checked; Vault's RSA default is PSS with
 * the largest salt, so {@code signature_algorithm} is always sent, with {@code salt_length=hash}
 * for PSS; {@code hash_algorithm} and {@code marshaling_algorithm=asn1} are always explicit.
 */
public final class VaultTransitKeyBackend implements KeyBackend {
  private static final Set<KeySpec> SPECS =
      EnumSet.of(KeySpec.EC_P256, KeySpec.EC_P384, KeySpec.RSA_3072, KeySpec.ED25519);

  private final Vault vault;
  private final String mount;

  /** A Transit key's type never changes, so it is read once per key. */
  private final Map<String, KeySpec> specs = new java.util.concurrent.ConcurrentHashMap<>();

  private final String address;

  private VaultTransitKeyBackend(Vault vault, String mount, String address) {
    this.vault = vault;
    this.mount = mount;
    this.address = address;
  }

  /**
   * Connects to Vault at {@code address} using {@code token} and the Transit engine mounted at
   * {@code mount} (usually {@code transit}). Checks the token by reading the mount's key list.
   */
  public static VaultTransitKeyBackend open(String address, Secret token, String mount) {
    if (!mount.matches("[A-Za-z0-9][A-Za-z0-9_/-]{0,63}")) {
      throw new KeyException(Code.INVALID_REQUEST, "bad Transit mount path");
    }
    try {
      char[] t = token.value();
      VaultConfig config =
          new VaultConfig()
              .address(address)
              .token(new String(t))
              .engineVersion(1)
              .openTimeout(5)
              .readTimeout(30)
              .build();
      java.util.Arrays.fill(t, '\0');
      VaultTransitKeyBackend b = new VaultTransitKeyBackend(Vault.create(config), mount, address);
      b.health();
      return b;
    } catch (VaultException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "cannot configure Vault client", null);
    }
  }

  @Override
  public KeyRef.Scheme scheme() {
    return KeyRef.Scheme.VAULT_TRANSIT;
  }

  @Override
  public Set<KeySpec> supportedSpecs() {
    return EnumSet.copyOf(SPECS);
  }

  private static String vaultType(KeySpec spec) {
    switch (spec) {
      case EC_P256:
        return "ecdsa-p256";
      case EC_P384:
        return "ecdsa-p384";
      case RSA_3072:
        return "rsa-3072";
      case ED25519:
        return "ed25519";
      default:
        throw new KeyException(
            Code.UNSUPPORTED_ALGORITHM, "Vault Transit has no " + spec + " keys");
    }
  }

  private static KeySpec specOf(String vaultType) {
    switch (vaultType) {
      case "ecdsa-p256":
        return KeySpec.EC_P256;
      case "ecdsa-p384":
        return KeySpec.EC_P384;
      case "rsa-3072":
        return KeySpec.RSA_3072;
      case "ed25519":
        return KeySpec.ED25519;
      default:
        throw new KeyException(
            Code.UNSUPPORTED_ALGORITHM, "Vault key type " + vaultType + " is not one Yinxin uses");
    }
  }

  /** Checks the HTTP status of an answer the driver did not throw for. */
  private LogicalResponse check(LogicalResponse r, String what, KeyRef ref) {
    int status = r.getRestResponse().getStatus();
    if (status >= 200 && status < 300) {
      return r;
    }
    String errors = errors(r.getRestResponse().getBody());
    if (status == 403 || status == 401) {
      throw new KeyException(Code.AUTH_FAILED, what + ": Vault denied the token (" + status + ")");
    }
    if (status == 404) {
      throw new KeyException(Code.KEY_NOT_FOUND, what + ": no key " + ref);
    }
    if (status == 400) {
      throw new KeyException(Code.INVALID_REQUEST, what + ": Vault said " + errors);
    }
    throw new KeyException(
        Code.BACKEND_UNAVAILABLE, what + ": Vault answered " + status + " " + errors);
  }

  private static String errors(byte[] body) {
    try {
      JsonValue v = Json.parse(new String(body, StandardCharsets.UTF_8));
      JsonValue e = v.isObject() ? v.asObject().get("errors") : null;
      return e == null ? "" : e.toString();
    } catch (RuntimeException ex) {
      return "";
    }
  }

  private KeyException unavailable(String what, VaultException e) {
    int status = e.getHttpStatusCode();
    if (status == 403 || status == 401) {
      return new KeyException(Code.AUTH_FAILED, what + ": Vault denied the token (" + status + ")");
    }
    // The driver's messages may quote response bodies; keep only the class and status.
    return new KeyException(
        Code.BACKEND_UNAVAILABLE,
        what + ": Vault at " + address + " unavailable (status " + status + ")");
  }

  private String keyPath(KeyRef ref) {
    return mount + "/keys/" + ref.label();
  }

  @Override
  public synchronized KeyInfo generate(KeySpec spec, String label) {
    KeyRef ref = KeyRef.vault(label);
    String type = vaultType(spec);
    try {
      LogicalResponse existing = vault.logical().read(keyPath(ref));
      if (existing.getRestResponse().getStatus() == 200) {
        throw new KeyException(Code.INVALID_REQUEST, "key " + ref + " already exists");
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("type", type);
      body.put("exportable", false);
      body.put("allow_plaintext_backup", false);
      check(vault.logical().write(keyPath(ref), body), "create key", ref);
      return describe(ref);
    } catch (VaultException e) {
      throw unavailable("create key " + ref, e);
    }
  }

  /**
   * Deletes the key: Transit refuses to delete a key until its {@code deletion_allowed} is set, so
   * that is set first ({@code POST keys/:name/config}, then {@code DELETE keys/:name}).
   */
  @Override
  public synchronized void destroyGenerated(KeyRef ref) {
    try {
      check(
          vault.logical().write(keyPath(ref) + "/config", Map.of("deletion_allowed", true)),
          "allow deletion of key",
          ref);
      check(vault.logical().delete(keyPath(ref)), "delete key", ref);
    } catch (VaultException e) {
      throw unavailable("delete key " + ref, e);
    }
  }

  /**
   * Creates a new version of the key; signatures then use it, while older versions stay available
   * through {@code ?version=N}.
   *
   * @return the new latest version
   */
  public int rotate(KeyRef ref) {
    try {
      check(vault.logical().write(keyPath(ref) + "/rotate", Map.of()), "rotate key", ref);
      return readKey(ref).latestVersion();
    } catch (VaultException e) {
      throw unavailable("rotate key " + ref, e);
    }
  }

  private static final String AES = "aes256-gcm96";

  @Override
  public Set<io.yinxin.hsm.DataKeySpec> supportedDataKeySpecs() {
    return Set.of(io.yinxin.hsm.DataKeySpec.AES_256_GCM);
  }

  /** A non-exportable {@code aes256-gcm96} key; {@link #rotate} gives it new versions. */
  @Override
  public synchronized KeyRef generateDataKey(io.yinxin.hsm.DataKeySpec spec, String label) {
    KeyRef ref = KeyRef.vault(label);
    if (spec != io.yinxin.hsm.DataKeySpec.AES_256_GCM) {
      throw new KeyException(Code.UNSUPPORTED_ALGORITHM, "Vault Transit has no " + spec + " keys");
    }
    try {
      LogicalResponse existing = vault.logical().read(keyPath(ref));
      if (existing.getRestResponse().getStatus() == 200) {
        throw new KeyException(Code.INVALID_REQUEST, "key " + ref + " already exists");
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("type", AES);
      body.put("exportable", false);
      body.put("allow_plaintext_backup", false);
      check(vault.logical().write(keyPath(ref), body), "create key", ref);
      return ref;
    } catch (VaultException e) {
      throw unavailable("create key " + ref, e);
    }
  }

  @Override
  public java.util.Optional<io.yinxin.hsm.DataKeySpec> dataKey(KeyRef ref) {
    try {
      LogicalResponse r = vault.logical().read(keyPath(ref));
      if (r.getRestResponse().getStatus() == 404) {
        return java.util.Optional.empty();
      }
      String type = check(r, "read key", ref).getDataObject().getString("type", "");
      return AES.equals(type)
          ? java.util.Optional.of(io.yinxin.hsm.DataKeySpec.AES_256_GCM)
          : java.util.Optional.empty();
    } catch (VaultException e) {
      throw unavailable("read key " + ref, e);
    }
  }

  @Override
  public byte[] encrypt(KeyRef ref, byte[] plaintext, byte[] associatedData) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("plaintext", Base64.getEncoder().encodeToString(plaintext));
    body.put("associated_data", Base64.getEncoder().encodeToString(associatedData));
    LogicalResponse r;
    try {
      r = vault.logical().write(mount + "/encrypt/" + ref.label(), body);
    } catch (VaultException e) {
      if (e.getHttpStatusCode() == 400) {
        throw new KeyException(Code.KEY_NOT_FOUND, "no data protection key " + ref);
      }
      throw unavailable("encrypt with " + ref, e);
    }
    if (r.getRestResponse().getStatus() == 400) {
      throw new KeyException(Code.KEY_NOT_FOUND, "no data protection key " + ref);
    }
    String text = check(r, "encrypt with " + ref, ref).getData().get("ciphertext");
    if (text == null) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "Vault returned no ciphertext for " + ref);
    }
    return io.yinxin.hsm.DataCiphertext.vault(text);
  }

  /** Vault answers 400 for a ciphertext that does not open: {@code INVALID_CIPHERTEXT}. */
  @Override
  public byte[] decrypt(KeyRef ref, byte[] ciphertext, byte[] associatedData) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("ciphertext", io.yinxin.hsm.DataCiphertext.parseVault(ciphertext));
    body.put("associated_data", Base64.getEncoder().encodeToString(associatedData));
    LogicalResponse r;
    try {
      r = vault.logical().write(mount + "/decrypt/" + ref.label(), body);
    } catch (VaultException e) {
      if (e.getHttpStatusCode() == 400) {
        throw new KeyException(
            Code.INVALID_CIPHERTEXT, "not a ciphertext of this key with this associated data");
      }
      throw unavailable("decrypt with " + ref, e);
    }
    if (r.getRestResponse().getStatus() == 400) {
      throw new KeyException(
          Code.INVALID_CIPHERTEXT, "not a ciphertext of this key with this associated data");
    }
    String plaintext = check(r, "decrypt with " + ref, ref).getData().get("plaintext");
    try {
      return Base64.getDecoder().decode(plaintext == null ? "" : plaintext);
    } catch (IllegalArgumentException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "Vault returned malformed plaintext");
    }
  }

  private record VaultKey(KeySpec spec, int latestVersion, JsonObject keys) {}

  private VaultKey readKey(KeyRef ref) {
    try {
      LogicalResponse r = check(vault.logical().read(keyPath(ref)), "read key", ref);
      JsonObject data = r.getDataObject();
      return new VaultKey(
          specOf(data.getString("type")),
          data.getInt("latest_version"),
          data.get("keys").asObject());
    } catch (VaultException e) {
      throw unavailable("read key " + ref, e);
    } catch (RuntimeException e) {
      if (e instanceof KeyException k) {
        throw k;
      }
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "unreadable key description for " + ref);
    }
  }

  @Override
  public KeyInfo describe(KeyRef ref) {
    VaultKey k = readKey(ref);
    int version = ref.pinnedVersion().orElse(k.latestVersion());
    JsonValue v = k.keys().get(Integer.toString(version));
    if (v == null || !v.isObject()) {
      throw new KeyException(Code.KEY_NOT_FOUND, "no version " + version + " of key " + ref);
    }
    String pub = v.asObject().getString("public_key");
    return new KeyInfo(ref, k.spec(), parsePublicKey(k.spec(), pub));
  }

  /** Vault gives PEM for ECDSA and RSA keys and base64 of the raw 32 bytes for Ed25519. */
  private static PublicKey parsePublicKey(KeySpec spec, String text) {
    try {
      if (spec == KeySpec.ED25519) {
        byte[] raw = Base64.getDecoder().decode(text.strip());
        return PublicKeys.decode(
            new SubjectPublicKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519), raw)
                .getEncoded());
      }
      String b64 = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
      return PublicKeys.decode(Base64.getDecoder().decode(b64));
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "unreadable public key from Vault", e);
    }
  }

  @Override
  public byte[] sign(KeyRef ref, SignatureAlgorithm alg, byte[] data) {
    return sign(ref, alg, data, false);
  }

  /** Vault Transit's {@code prehashed=true}: the input is the digest of {@code alg}'s hash. */
  @Override
  public byte[] signDigest(KeyRef ref, SignatureAlgorithm alg, byte[] digest) {
    return sign(ref, alg, digest, true);
  }

  private byte[] sign(KeyRef ref, SignatureAlgorithm alg, byte[] data, boolean prehashed) {
    if (alg == SignatureAlgorithm.SM3_WITH_SM2) {
      throw new KeyException(Code.UNSUPPORTED_ALGORITHM, "Vault Transit has no SM2");
    }
    // Vault ignores signature_algorithm for EC keys and would sign anyway: check here.
    KeySpec spec = specs.get(ref.label());
    if (spec == null) {
      spec = readKey(ref).spec();
      specs.put(ref.label(), spec);
    }
    if (!spec.allows(alg)) {
      throw new KeyException(
          Code.INVALID_REQUEST, alg + " cannot sign with " + spec + " key " + ref);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("input", Base64.getEncoder().encodeToString(data));
    switch (alg) {
      case ECDSA_SHA256:
        body.put("hash_algorithm", "sha2-256");
        body.put("marshaling_algorithm", "asn1");
        break;
      case ECDSA_SHA384:
        body.put("hash_algorithm", "sha2-384");
        body.put("marshaling_algorithm", "asn1");
        break;
      case RSA_PKCS1_SHA256:
        body.put("hash_algorithm", "sha2-256");
        body.put("signature_algorithm", "pkcs1v15");
        break;
      case RSA_PSS_SHA256:
        body.put("hash_algorithm", "sha2-256");
        body.put("signature_algorithm", "pss");
        body.put("salt_length", "hash");
        break;
      default:
        // Ed25519 signs the message itself; Vault ignores hash_algorithm for it.
        break;
    }
    if (prehashed) {
      body.put("prehashed", true);
    }
    ref.pinnedVersion().ifPresent(v -> body.put("key_version", v));
    LogicalResponse r;
    try {
      r = vault.logical().write(mount + "/sign/" + ref.label(), body);
    } catch (VaultException e) {
      throw unavailable("sign with " + ref, e);
    }
    check(r, "sign with " + ref, ref);
    String signature = r.getData().get("signature");
    if (signature == null || !signature.startsWith("vault:v")) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "Vault returned no signature for " + ref);
    }
    int colon = signature.indexOf(':', "vault:v".length());
    try {
      return Base64.getDecoder().decode(signature.substring(colon + 1));
    } catch (IllegalArgumentException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "Vault returned a malformed signature");
    }
  }

  @Override
  public List<KeyInfo> list() {
    List<String> names;
    try {
      LogicalResponse r = vault.logical().list(mount + "/keys");
      if (r.getRestResponse().getStatus() == 404) {
        return List.of();
      }
      names = check(r, "list keys", KeyRef.vault("keys")).getListData();
    } catch (VaultException e) {
      throw unavailable("list keys", e);
    }
    List<KeyInfo> all = new ArrayList<>();
    for (String n : names) {
      try {
        all.add(describe(KeyRef.vault(n)));
      } catch (KeyException e) {
        if (e.code() != Code.UNSUPPORTED_ALGORITHM && e.code() != Code.INVALID_REQUEST) {
          throw e;
        }
      }
    }
    return all;
  }

  @Override
  public String health() {
    try {
      LogicalResponse r = vault.logical().list(mount + "/keys");
      int status = r.getRestResponse().getStatus();
      if (status == 403 || status == 401) {
        throw new KeyException(Code.AUTH_FAILED, "Vault denied the token (" + status + ")");
      }
      if (status != 200 && status != 404) {
        throw new KeyException(Code.BACKEND_UNAVAILABLE, "Vault answered " + status);
      }
    } catch (VaultException e) {
      throw unavailable("health", e);
    }
    return "address=" + address + " mount=" + mount;
  }

  @Override
  public void close() {
    // The driver holds no resources beyond its HTTP client.
  }

  @Override
  public String toString() {
    return "VaultTransitKeyBackend[" + address + ", mount=" + mount + "]";
  }
}
