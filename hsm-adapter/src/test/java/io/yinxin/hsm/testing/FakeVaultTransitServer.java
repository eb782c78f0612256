package io.yinxin.hsm.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.github.jopenlibs.vault.json.Json;
import io.github.jopenlibs.vault.json.JsonArray;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Stands in for HashiCorp Vault's Transit secrets engine, which cannot run on this machine. It
 * follows the Transit API documentation (developer.hashicorp.com/vault/api-docs/secret/transit):
 * the {@code /v1/<mount>/keys/:name}, {@code .../rotate}, {@code LIST /v1/<mount>/keys} and {@code
 * /v1/<mount>/sign/:name} paths, the {@code X-Vault-Token} header, JSON answers under {@code data},
 * errors as {@code {"errors":[...]}}, signatures prefixed {@code vault:vN:}, and Vault's own
 * defaults where a parameter is left out (hash sha2-256; RSA signature_algorithm pss with salt
 * length "auto", the largest). Unknown paths (such as the KV v2 layout {@code
 * transit/data/sign/...}) answer 404 as Vault does. Every request is recorded so tests can assert
 * the exact bodies a client sent.
 */
public final class FakeVaultTransitServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(8);
  private final String token;
  private final String mount;
  private final Map<String, FakeKey> keys = new ConcurrentHashMap<>();
  private final ConcurrentLinkedDeque<Recorded> requests = new ConcurrentLinkedDeque<>();

  /** One request as received. */
  public record Recorded(String method, String path, String query, JsonObject body) {}

  private static final class FakeKey {
    final String type;
    final List<KeyPair> versions = new ArrayList<>();
    final List<Instant> created = new ArrayList<>();

    /** The versions of an {@code aes256-gcm96} key (then {@code versions} stays empty). */
    final List<byte[]> secrets = new ArrayList<>();

    /** Transit refuses to delete a key until its configuration allows it. */
    volatile boolean deletionAllowed;

    boolean symmetric() {
      return type.equals("aes256-gcm96");
    }

    FakeKey(String type) {
      this.type = type;
    }
  }

  public FakeVaultTransitServer(String token, String mount) throws IOException {
    this.token = token;
    this.mount = mount;
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** The address a client configures, e.g. {@code http://127.0.0.1:41234}. */
  public String address() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Requests received so far, oldest first (at most the last 20,000). */
  public List<Recorded> requests() {
    return new ArrayList<>(requests);
  }

  public void clearRequests() {
    requests.clear();
  }

  private volatile boolean sealed;

  /**
   * Seals or unseals the fake, as an operator's {@code vault operator seal} and unseal do: while
   * sealed, {@code /v1/sys/health} answers 503 with {@code "sealed": true} and every other path 503
   * {@code {"errors":["Vault is sealed"]}} (Vault's documented behaviour); keys survive.
   */
  public void sealed(boolean sealed) {
    this.sealed = sealed;
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String method = ex.getRequestMethod();
      String path = ex.getRequestURI().getPath();
      String query = ex.getRequestURI().getQuery();
      String raw = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      JsonObject body;
      try {
        body = raw.isBlank() ? new JsonObject() : Json.parse(raw).asObject();
      } catch (RuntimeException e) {
        send(ex, 400, errors("failed to parse JSON input"));
        return;
      }
      requests.add(new Recorded(method, path, query, body));
      while (requests.size() > 20_000) {
        requests.pollFirst();
      }
      if (sealed) {
        send(
            ex,
            503,
            path.equals("/v1/sys/health")
                ? new JsonObject().add("initialized", true).add("sealed", true).toString()
                : errors("Vault is sealed"));
        return;
      }
      if (!token.equals(ex.getRequestHeaders().getFirst("X-Vault-Token"))) {
        send(ex, 403, errors("permission denied"));
        return;
      }
      route(ex, method, path, query, body);
    } catch (GeneralSecurityException | RuntimeException e) {
      send(ex, 500, errors("internal error: " + e.getClass().getSimpleName()));
    }
  }

  private void route(HttpExchange ex, String method, String path, String query, JsonObject body)
      throws IOException, GeneralSecurityException {
    String prefix = "/v1/" + mount + "/";
    if (path.equals("/v1/sys/health")) {
      send(ex, 200, new JsonObject().add("initialized", true).add("sealed", false).toString());
      return;
    }
    if (!path.startsWith(prefix)) {
      send(ex, 404, errors("no handler for route \"" + path.substring(4) + "\""));
      return;
    }
    String[] parts = path.substring(prefix.length()).split("/", -1);
    boolean list = method.equals("LIST") || (method.equals("GET") && "list=true".equals(query));
    if (parts.length == 1 && parts[0].equals("keys") && list) {
      listKeys(ex);
    } else if (parts.length == 2 && parts[0].equals("keys") && method.equals("GET")) {
      readKey(ex, parts[1]);
    } else if (parts.length == 2 && parts[0].equals("keys") && isWrite(method)) {
      createKey(ex, parts[1], body);
    } else if (parts.length == 2 && parts[0].equals("keys") && method.equals("DELETE")) {
      deleteKey(ex, parts[1]);
    } else if (parts.length == 3
        && parts[0].equals("keys")
        && parts[2].equals("config")
        && isWrite(method)) {
      configureKey(ex, parts[1], body);
    } else if (parts.length == 3
        && parts[0].equals("keys")
        && parts[2].equals("rotate")
        && isWrite(method)) {
      rotateKey(ex, parts[1]);
    } else if (parts.length == 2
        && (parts[0].equals("encrypt") || parts[0].equals("decrypt"))
        && isWrite(method)) {
      crypt(ex, parts[0].equals("encrypt"), parts[1], body);
    } else if ((parts.length == 2 || parts.length == 3)
        && parts[0].equals("sign")
        && isWrite(method)) {
      sign(ex, parts[1], parts.length == 3 ? parts[2] : null, body);
    } else {
      send(ex, 404, errors("1 error occurred:\n\t* unsupported path\n\n"));
    }
  }

  private static boolean isWrite(String method) {
    return method.equals("POST") || method.equals("PUT");
  }

  private void listKeys(HttpExchange ex) throws IOException {
    if (keys.isEmpty()) {
      send(ex, 404, errors());
      return;
    }
    JsonArray names = new JsonArray();
    new TreeMap<>(keys).keySet().forEach(names::add);
    send(ex, 200, envelope(new JsonObject().add("keys", names)));
  }

  private void createKey(HttpExchange ex, String name, JsonObject body)
      throws IOException, GeneralSecurityException {
    String type = body.getString("type", "aes256-gcm96");
    if (!List.of(
            "ecdsa-p256",
            "ecdsa-p384",
            "rsa-2048",
            "rsa-3072",
            "rsa-4096",
            "ed25519",
            "aes256-gcm96")
        .contains(type)) {
      send(ex, 400, errors("unknown key type: " + type));
      return;
    }
    if (body.getBoolean("exportable", false)) {
      // Yinxin must never create exportable keys; fail loudly if a client asks.
      send(ex, 400, errors("fake refuses exportable keys: Yinxin keys must stay in Vault"));
      return;
    }
    FakeKey k = keys.computeIfAbsent(name, n -> new FakeKey(type));
    synchronized (k) {
      if (k.symmetric()) {
        if (k.secrets.isEmpty()) {
          byte[] secret = new byte[32];
          new java.security.SecureRandom().nextBytes(secret);
          k.secrets.add(secret);
          k.created.add(Instant.now());
        }
      } else if (k.versions.isEmpty()) {
        k.versions.add(newPair(type));
        k.created.add(Instant.now());
      }
    }
    send(ex, 204, "");
  }

  /** {@code POST keys/:name/config}: only {@code deletion_allowed} is modelled. */
  private void configureKey(HttpExchange ex, String name, JsonObject body) throws IOException {
    FakeKey k = keys.get(name);
    if (k == null) {
      send(ex, 400, errors("no existing key named " + name + " could be found"));
      return;
    }
    if (body.get("deletion_allowed") != null) {
      k.deletionAllowed = body.get("deletion_allowed").asBoolean();
    }
    send(ex, 204, "");
  }

  /** {@code DELETE keys/:name}: refused unless the key's configuration allows deletion. */
  private void deleteKey(HttpExchange ex, String name) throws IOException {
    FakeKey k = keys.get(name);
    if (k != null && !k.deletionAllowed) {
      send(ex, 400, errors("deletion is not allowed for this key"));
      return;
    }
    keys.remove(name);
    send(ex, 204, "");
  }

  private void rotateKey(HttpExchange ex, String name)
      throws IOException, GeneralSecurityException {
    FakeKey k = keys.get(name);
    if (k == null) {
      send(ex, 400, errors("key not found"));
      return;
    }
    synchronized (k) {
      if (k.symmetric()) {
        byte[] secret = new byte[32];
        new java.security.SecureRandom().nextBytes(secret);
        k.secrets.add(secret);
      } else {
        k.versions.add(newPair(k.type));
      }
      k.created.add(Instant.now());
    }
    send(ex, 200, envelope(describe(name, k)));
  }

  private void readKey(HttpExchange ex, String name) throws IOException {
    FakeKey k = keys.get(name);
    if (k == null) {
      send(ex, 404, errors());
      return;
    }
    send(ex, 200, envelope(describe(name, k)));
  }

  private static JsonObject describe(String name, FakeKey k) {
    JsonObject versions = new JsonObject();
    synchronized (k) {
      if (k.symmetric()) {
        // Vault lists a symmetric key's versions with their creation times only.
        for (int i = 0; i < k.secrets.size(); i++) {
          versions.add(Integer.toString(i + 1), k.created.get(i).getEpochSecond());
        }
        return new JsonObject()
            .add("name", name)
            .add("type", k.type)
            .add("latest_version", k.secrets.size())
            .add("min_decryption_version", 1)
            .add("exportable", false)
            .add("supports_signing", false)
            .add("supports_encryption", true)
            .add("supports_decryption", true)
            .add("keys", versions);
      }
      for (int i = 0; i < k.versions.size(); i++) {
        byte[] spki = k.versions.get(i).getPublic().getEncoded();
        String pub =
            k.type.equals("ed25519")
                ? Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(spki, 12, 44))
                : OpenSsl.pem("PUBLIC KEY", spki);
        versions.add(
            Integer.toString(i + 1),
            new JsonObject()
                .add("creation_time", k.created.get(i).toString())
                .add("name", k.type)
                .add("public_key", pub));
      }
      return new JsonObject()
          .add("name", name)
          .add("type", k.type)
          .add("latest_version", k.versions.size())
          .add("min_available_version", 0)
          .add("min_decryption_version", 1)
          .add("min_encryption_version", 0)
          .add("exportable", false)
          .add("supports_signing", true)
          .add("supports_encryption", false)
          .add("keys", versions);
    }
  }

  /**
   * {@code POST /transit/encrypt/:name} ({@code plaintext}, {@code associated_data}, both base64)
   * answers {@code ciphertext} {@code vault:v<N>:base64(nonce ‖ ciphertext ‖ tag)}; {@code POST
   * /transit/decrypt/:name} the reverse, or 400 {@code cipher: message authentication failed}.
   */
  private void crypt(HttpExchange ex, boolean encrypt, String name, JsonObject body)
      throws IOException {
    FakeKey k = keys.get(name);
    if (k == null || !k.symmetric()) {
      send(
          ex,
          400,
          errors(k == null ? "encryption key not found" : "key type does not support encryption"));
      return;
    }
    byte[] aad;
    try {
      aad = Base64.getDecoder().decode(body.getString("associated_data", ""));
    } catch (IllegalArgumentException e) {
      send(ex, 400, errors("failed to base64-decode associated data"));
      return;
    }
    try {
      javax.crypto.Cipher c = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
      if (encrypt) {
        byte[] plaintext = Base64.getDecoder().decode(body.getString("plaintext", ""));
        byte[] nonce = new byte[12];
        new java.security.SecureRandom().nextBytes(nonce);
        int version;
        byte[] secret;
        synchronized (k) {
          version = k.secrets.size();
          secret = k.secrets.get(version - 1);
        }
        c.init(
            javax.crypto.Cipher.ENCRYPT_MODE,
            new javax.crypto.spec.SecretKeySpec(secret, "AES"),
            new javax.crypto.spec.GCMParameterSpec(128, nonce));
        c.updateAAD(aad);
        byte[] sealed = c.doFinal(plaintext);
        byte[] out = new byte[12 + sealed.length];
        System.arraycopy(nonce, 0, out, 0, 12);
        System.arraycopy(sealed, 0, out, 12, sealed.length);
        String text = "vault:v" + version + ":" + Base64.getEncoder().encodeToString(out);
        send(
            ex,
            200,
            envelope(new JsonObject().add("ciphertext", text).add("key_version", version)));
        return;
      }
      String text = body.getString("ciphertext", "");
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("vault:v(\\d+):(.*)").matcher(text);
      if (!m.matches()) {
        send(ex, 400, errors("invalid ciphertext: no prefix"));
        return;
      }
      int version = Integer.parseInt(m.group(1));
      byte[] secret;
      synchronized (k) {
        if (version < 1 || version > k.secrets.size()) {
          send(ex, 400, errors("invalid key version"));
          return;
        }
        secret = k.secrets.get(version - 1);
      }
      byte[] raw = Base64.getDecoder().decode(m.group(2));
      if (raw.length < 28) {
        send(ex, 400, errors("invalid ciphertext: could not decode"));
        return;
      }
      c.init(
          javax.crypto.Cipher.DECRYPT_MODE,
          new javax.crypto.spec.SecretKeySpec(secret, "AES"),
          new javax.crypto.spec.GCMParameterSpec(128, raw, 0, 12));
      c.updateAAD(aad);
      byte[] plaintext = c.doFinal(raw, 12, raw.length - 12);
      send(
          ex,
          200,
          envelope(
              new JsonObject().add("plaintext", Base64.getEncoder().encodeToString(plaintext))));
    } catch (javax.crypto.AEADBadTagException e) {
      send(ex, 400, errors("cipher: message authentication failed"));
    } catch (IllegalArgumentException e) {
      send(ex, 400, errors("failed to base64-decode"));
    } catch (GeneralSecurityException e) {
      send(ex, 500, errors("internal error"));
    }
  }

  private void sign(HttpExchange ex, String name, String hashInPath, JsonObject body)
      throws IOException, GeneralSecurityException {
    FakeKey k = keys.get(name);
    if (k == null) {
      send(ex, 400, errors("signing key not found"));
      return;
    }
    String input = body.getString("input", null);
    if (input == null) {
      send(ex, 400, errors("missing input"));
      return;
    }
    byte[] data;
    try {
      data = Base64.getDecoder().decode(input);
    } catch (IllegalArgumentException e) {
      send(ex, 400, errors("unable to decode input as base64: illegal base64 data"));
      return;
    }
    String hash = hashInPath != null ? hashInPath : body.getString("hash_algorithm", "sha2-256");
    String sigAlg = body.getString("signature_algorithm", "pss");
    String marshaling = body.getString("marshaling_algorithm", "asn1");
    String salt = body.getString("salt_length", "auto");
    boolean prehashed = body.getBoolean("prehashed", false);
    JsonValue ver = body.get("key_version");
    KeyPair pair;
    int version;
    synchronized (k) {
      version = ver == null ? k.versions.size() : ver.asInt();
      if (version < 1 || version > k.versions.size()) {
        send(ex, 400, errors("requested version for signing does not exist"));
        return;
      }
      pair = k.versions.get(version - 1);
    }
    String digest;
    switch (hash) {
      case "sha2-256":
        digest = "SHA256";
        break;
      case "sha2-384":
        digest = "SHA384";
        break;
      case "sha2-512":
        digest = "SHA512";
        break;
      default:
        send(ex, 400, errors("unsupported hash algorithm " + hash));
        return;
    }
    byte[] sig;
    if (k.type.startsWith("ecdsa")) {
      if (!marshaling.equals("asn1") && !marshaling.equals("jws")) {
        send(ex, 400, errors("invalid marshaling type " + marshaling));
        return;
      }
      // prehashed: the input is the digest and is signed as it is.
      String withEcdsa = (prehashed ? "NONE" : digest) + "withECDSA";
      sig =
          jcaSign(
              marshaling.equals("jws") ? withEcdsa + "inP1363Format" : withEcdsa, pair, data, null);
    } else if (k.type.equals("ed25519")) {
      if (prehashed) {
        send(ex, 400, errors("ed25519 does not support prehashed input"));
        return;
      }
      sig = jcaSign("Ed25519", pair, data, null);
    } else if (sigAlg.equals("pkcs1v15")) {
      sig =
          prehashed
              ? jcaSign("NONEwithRSA", pair, digestInfo(hash, data), null)
              : jcaSign(digest + "withRSA", pair, data, null);
    } else if (sigAlg.equals("pss")) {
      int hashLen = digest.equals("SHA256") ? 32 : digest.equals("SHA384") ? 48 : 64;
      int modulusBytes =
          (((java.security.interfaces.RSAPublicKey) pair.getPublic()).getModulus().bitLength() + 7)
              / 8;
      int saltLen =
          salt.equals("hash")
              ? hashLen
              : salt.equals("auto") || salt.equals("max")
                  ? modulusBytes - hashLen - 2
                  : Integer.parseInt(salt);
      String jcaDigest = "SHA-" + digest.substring(3);
      sig =
          jcaSign(
              prehashed ? "NONEwithRSASSA-PSS" : "RSASSA-PSS",
              pair,
              data,
              new PSSParameterSpec(
                  jcaDigest, "MGF1", new MGF1ParameterSpec(jcaDigest), saltLen, 1));
    } else {
      send(ex, 400, errors("unsupported rsa signature algorithm " + sigAlg));
      return;
    }
    String value = "vault:v" + version + ":" + Base64.getEncoder().encodeToString(sig);
    send(ex, 200, envelope(new JsonObject().add("signature", value).add("key_version", version)));
  }

  /** PKCS#1 v1.5's DigestInfo around a digest (RFC 8017 §9.2, the fixed prefixes of note 1). */
  private static byte[] digestInfo(String hash, byte[] digest) {
    String prefix =
        switch (hash) {
          case "sha2-384" -> "3041300d060960864801650304020205000430";
          case "sha2-512" -> "3051300d060960864801650304020305000440";
          default -> "3031300d060960864801650304020105000420";
        };
    byte[] p = java.util.HexFormat.of().parseHex(prefix);
    byte[] out = java.util.Arrays.copyOf(p, p.length + digest.length);
    System.arraycopy(digest, 0, out, p.length, digest.length);
    return out;
  }

  private static byte[] jcaSign(
      String alg, KeyPair pair, byte[] data, java.security.spec.AlgorithmParameterSpec params)
      throws GeneralSecurityException {
    Signature s =
        alg.startsWith("NONEwithRSASSA")
            ? Signature.getInstance(alg, io.yinxin.hsm.BouncyCastle.PROVIDER)
            : Signature.getInstance(alg);
    if (params != null) {
      s.setParameter(params);
    }
    s.initSign(pair.getPrivate());
    s.update(data);
    return s.sign();
  }

  private static KeyPair newPair(String type) throws GeneralSecurityException {
    switch (type) {
      case "ecdsa-p256":
      case "ecdsa-p384":
        {
          KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
          g.initialize(new ECGenParameterSpec(type.endsWith("256") ? "secp256r1" : "secp384r1"));
          return g.generateKeyPair();
        }
      case "ed25519":
        return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
      default:
        {
          KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
          g.initialize(Integer.parseInt(type.substring(4)));
          return g.generateKeyPair();
        }
    }
  }

  private static String envelope(JsonObject data) {
    return new JsonObject()
        .add("request_id", java.util.UUID.randomUUID().toString())
        .add("lease_id", "")
        .add("renewable", false)
        .add("lease_duration", 0)
        .add("data", data)
        .add("wrap_info", Json.NULL)
        .add("warnings", Json.NULL)
        .add("auth", Json.NULL)
        .toString();
  }

  private static String errors(String... messages) {
    JsonArray a = new JsonArray();
    for (String m : messages) {
      a.add(m);
    }
    return new JsonObject().add("errors", a).toString();
  }

  private static void send(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    if (status == 204) {
      ex.sendResponseHeaders(204, -1);
      return;
    }
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
