package io.yinxin.sso.http;

import io.yinxin.audit.AuditException;
import io.yinxin.sso.cas.CasServices;
import io.yinxin.sso.client.ClientAdmin;
import io.yinxin.sso.client.ClientMetadata;
import io.yinxin.sso.realname.RealNames;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The client admin API, {@code /sso/v1/clients}: register (RFC 7591 metadata in, the secret out
 * once), read, list, replace, rotate the secret, delete; and the CAS services, {@code
 * /sso/v1/cas-services}: register ({@code service_url}, {@code name}), list, read, remove. Errors
 * are RFC 7591's {@code {error, error_description}}.
 */
@RestController
public class ClientAdminController {
  static final int MAX_BODY = 64 * 1024;
  private static final JsonMapper JSON =
      JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  private final ClientAdmin clients;
  private final CasServices casServices;
  private final RealNames realNames;
  private final io.yinxin.sso.token.KeyRotation keys;
  private final SsoAdmins admins;
  private final io.yinxin.sso.account.Accounts accounts;
  private final io.yinxin.audit.AuditOutbox audit;
  private final io.yinxin.sso.account.SecondFactors factors;
  private final io.yinxin.sso.account.LoginThrottle throttle;
  private final java.util.function.BiConsumer<String, HttpServletRequest> signOut;

  /**
   * @param signOut ends every session and token of an account and tells its clients (back-channel
   *     logout), for the request's issuer
   */
  public ClientAdminController(
      ClientAdmin clients,
      CasServices casServices,
      RealNames realNames,
      io.yinxin.sso.token.KeyRotation keys,
      SsoAdmins admins,
      io.yinxin.sso.account.Accounts accounts,
      io.yinxin.audit.AuditOutbox audit,
      io.yinxin.sso.account.SecondFactors factors,
      io.yinxin.sso.account.LoginThrottle throttle,
      java.util.function.BiConsumer<String, HttpServletRequest> signOut) {
    this.throttle = throttle;
    this.factors = factors;
    this.signOut = signOut;
    this.accounts = accounts;
    this.audit = audit;
    this.clients = clients;
    this.casServices = casServices;
    this.realNames = realNames;
    this.keys = keys;
    this.admins = admins;
  }

  /** The token signing keys: active, and retired but still published until when. */
  @GetMapping(value = "/sso/v1/keys", produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> signingKeys(
      @RequestHeader(value = "Authorization", required = false) String auth) {
    admins.require(auth);
    return Map.of("keys", keys.list());
  }

  /** Rotates the signing keys (the old ones stay published until their tokens expired). */
  @PostMapping(value = "/sso/v1/keys/rotate", produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> rotate(
      @RequestHeader(value = "Authorization", required = false) String auth) {
    String actor = admins.require(auth);
    return Map.of(
        "active",
        keys.rotate(actor),
        "retired_published_for_seconds",
        io.yinxin.sso.token.KeyRotation.OVERLAP.toSeconds());
  }

  @PostMapping(value = "/sso/v1/clients", produces = MediaType.APPLICATION_JSON_VALUE)
  public ResponseEntity<Map<String, Object>> create(
      @RequestHeader(value = "Authorization", required = false) String auth,
      HttpServletRequest request)
      throws IOException {
    String actor = admins.require(auth);
    Map<String, Object> body = object(request);
    Object id = body.remove("client_id");
    if (id != null && !(id instanceof String)) {
      throw new ClientMetadata.Invalid("invalid_client_metadata", "client_id: a string");
    }
    ClientAdmin.Registered r =
        clients.create(actor, Optional.ofNullable((String) id), ClientMetadata.from(body));
    Map<String, Object> out = new LinkedHashMap<>(ClientMetadata.describe(r.client()));
    r.secret().ifPresent(s -> out.put("client_secret", s));
    return ResponseEntity.status(HttpStatus.CREATED)
        .header(HttpHeaders.CACHE_CONTROL, "no-store")
        .body(out);
  }

  @GetMapping(value = "/sso/v1/clients", produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> list(
      @RequestHeader(value = "Authorization", required = false) String auth) {
    admins.require(auth);
    return Map.of("clients", clients.list());
  }

  @GetMapping(value = "/sso/v1/clients/{clientId}", produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> get(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String clientId) {
    admins.require(auth);
    return ClientMetadata.describe(clients.find(clientId).orElseThrow(ClientAdmin.NotFound::new));
  }

  @PutMapping(value = "/sso/v1/clients/{clientId}", produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> update(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String clientId,
      HttpServletRequest request)
      throws IOException {
    String actor = admins.require(auth);
    Map<String, Object> body = object(request);
    Object id = body.remove("client_id");
    if (id != null && !clientId.equals(id)) {
      throw new ClientMetadata.Invalid("invalid_client_metadata", "client_id cannot change");
    }
    RegisteredClient c = clients.update(actor, clientId, ClientMetadata.from(body));
    return ClientMetadata.describe(c);
  }

  @PostMapping(
      value = "/sso/v1/clients/{clientId}/secret",
      produces = MediaType.APPLICATION_JSON_VALUE)
  public ResponseEntity<Map<String, Object>> rotate(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String clientId) {
    String actor = admins.require(auth);
    String secret = clients.rotateSecret(actor, clientId);
    return ResponseEntity.ok()
        .header(HttpHeaders.CACHE_CONTROL, "no-store")
        .body(Map.of("client_id", clientId, "client_secret", secret));
  }

  @DeleteMapping("/sso/v1/clients/{clientId}")
  public ResponseEntity<Void> delete(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String clientId) {
    String actor = admins.require(auth);
    clients.delete(actor, clientId);
    return ResponseEntity.noContent().build();
  }

  @PostMapping(value = "/sso/v1/cas-services", produces = MediaType.APPLICATION_JSON_VALUE)
  public ResponseEntity<Map<String, Object>> registerCasService(
      @RequestHeader(value = "Authorization", required = false) String auth,
      HttpServletRequest request)
      throws IOException {
    String actor = admins.require(auth);
    Map<String, Object> body = object(request);
    for (String field : body.keySet()) {
      if (!java.util.Set.of("service_id", "service_url", "name").contains(field)) {
        throw new ClientMetadata.Invalid(
            "invalid_client_metadata",
            "unknown member " + field.substring(0, Math.min(40, field.length())));
      }
      if (!(body.get(field) instanceof String)) {
        throw new ClientMetadata.Invalid("invalid_client_metadata", field + ": a string");
      }
    }
    CasServices.Service s =
        casServices.register(
            actor,
            Optional.ofNullable((String) body.get("service_id")),
            (String) body.get("service_url"),
            (String) body.get("name"));
    return ResponseEntity.status(HttpStatus.CREATED).body(s.describe());
  }

  @GetMapping(value = "/sso/v1/cas-services", produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> listCasServices(
      @RequestHeader(value = "Authorization", required = false) String auth) {
    admins.require(auth);
    return Map.of(
        "services", casServices.list().stream().map(CasServices.Service::describe).toList());
  }

  @GetMapping(value = "/sso/v1/cas-services/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> getCasService(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String id) {
    admins.require(auth);
    return casServices.byId(id).orElseThrow(ClientAdmin.NotFound::new).describe();
  }

  @DeleteMapping("/sso/v1/cas-services/{id}")
  public ResponseEntity<Void> removeCasService(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String id) {
    String actor = admins.require(auth);
    casServices.remove(actor, id);
    return ResponseEntity.noContent().build();
  }

  /**
   * Creates a person's account: {@code username}, optionally {@code display_name} and the real-name
   * members of {@code PUT /sso/v1/accounts/{username}/realname} ({@code name}, {@code id_number},
   * {@code phone}, {@code verification}). The answer holds a one-time password, shown this once,
   * that must be replaced at the first sign-in. A real name that is refused (a wrong ID number, one
   * bound to another account) leaves no account behind: 400 or 409.
   */
  @PostMapping(value = "/sso/v1/accounts", produces = MediaType.APPLICATION_JSON_VALUE)
  public ResponseEntity<Map<String, Object>> createAccount(
      @RequestHeader(value = "Authorization", required = false) String auth,
      HttpServletRequest request)
      throws IOException {
    String actor = admins.require(auth);
    Map<String, Object> body = object(request);
    stringMembers(
        body,
        java.util.Set.of("username", "display_name", "name", "id_number", "phone", "verification"));
    String user =
        io.yinxin.sso.account.Accounts.canonical((String) body.get("username"))
            .orElseThrow(
                () ->
                    new ClientMetadata.Invalid(
                        "invalid_request",
                        "username: 1-100 of a-z 0-9 . _ @ -, starting with a letter or digit"));
    boolean realName = body.containsKey("name");
    if (!realName
        && (body.containsKey("id_number")
            || body.containsKey("phone")
            || body.containsKey("verification"))) {
      throw new ClientMetadata.Invalid("invalid_request", "name: required with a real name");
    }
    Optional<String> password;
    try {
      password =
          accounts.createWithOneTimePassword(actor, user, (String) body.get("display_name"), audit);
    } catch (IllegalArgumentException e) {
      throw new ClientMetadata.Invalid("invalid_request", e.getMessage());
    }
    if (password.isEmpty()) {
      return error(HttpStatus.CONFLICT, "invalid_request", "username: taken");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("username", user);
    if (realName) {
      try {
        RealNames.Masked m =
            realNames.set(
                actor,
                user,
                (String) body.get("name"),
                Optional.ofNullable((String) body.get("id_number")),
                Optional.ofNullable((String) body.get("phone")),
                body.containsKey("verification")
                    ? (String) body.get("verification")
                    : "self_declared");
        out.putAll(describe(user, m));
      } catch (RealNames.Invalid e) {
        accounts.removeNew(actor, user, audit);
        throw new ClientMetadata.Invalid("invalid_request", e.getMessage());
      } catch (RealNames.Taken e) {
        accounts.removeNew(actor, user, audit);
        throw e;
      }
    }
    out.put("one_time_password", password.get());
    return ResponseEntity.status(HttpStatus.CREATED)
        .header(HttpHeaders.CACHE_CONTROL, "no-store")
        .body(out);
  }

  /**
   * Accounts in username order, a page at a time: {@code prefix} (the start of the usernames
   * wanted), {@code after} (the last username of the previous page) and {@code limit} (1–100,
   * default 50), each in one spelling only. The answer's {@code next} is the {@code after} of the
   * next page when this one is full (which may then be empty), null when it is not. Each account as
   * {@link #getAccount} gives it, without its second factors.
   */
  @GetMapping(value = "/sso/v1/accounts", produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> listAccounts(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @RequestParam(value = "prefix", required = false) String prefix,
      @RequestParam(value = "after", required = false) String after,
      @RequestParam(value = "limit", required = false) String limit) {
    admins.require(auth);
    if (prefix != null && !prefix.matches("[a-z0-9._@-]{1,100}")) {
      throw new ClientMetadata.Invalid("invalid_request", "prefix: 1-100 of a-z 0-9 . _ @ -");
    }
    if (after != null
        && !io.yinxin.sso.account.Accounts.canonical(after).filter(after::equals).isPresent()) {
      throw new ClientMetadata.Invalid("invalid_request", "after: a username as listed");
    }
    // One spelling per number (no sign, no leading zero), so nothing overflows on the way.
    if (limit != null && !(limit.matches("[1-9][0-9]{0,2}") && Integer.parseInt(limit) <= 100)) {
      throw new ClientMetadata.Invalid("invalid_request", "limit: 1-100");
    }
    int n = limit == null ? 50 : Integer.parseInt(limit);
    List<io.yinxin.sso.account.Accounts.Status> page =
        accounts.list(prefix == null ? "" : prefix, after == null ? "" : after, n);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("accounts", page.stream().map(ClientAdminController::describe).toList());
    out.put("next", page.size() == n ? page.get(n - 1).username() : null);
    return out;
  }

  private static Map<String, Object> describe(io.yinxin.sso.account.Accounts.Status s) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("username", s.username());
    out.put("display_name", s.displayName());
    out.put("enabled", s.enabled());
    out.put("must_change_password", s.mustChangePassword());
    out.put("administrator", s.administrator());
    out.put("created_at", s.createdAt() == null ? null : s.createdAt().toString());
    return out;
  }

  /**
   * An account's state: display name, whether it may sign in, whether its password must be replaced
   * at the next sign-in, whether it administers this provider, when it was created, and its second
   * factors (a TOTP app, how many passkeys). No personal data beyond the display name.
   */
  @GetMapping(value = "/sso/v1/accounts/{username}", produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> getAccount(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String username) {
    admins.require(auth);
    io.yinxin.sso.account.Accounts.Status s =
        accounts.status(username).orElseThrow(ClientAdmin.NotFound::new);
    Map<String, Object> out = describe(s);
    out.put("totp", factors.hasTotp(s.username()));
    out.put("passkeys", factors.passkeys(s.username()));
    // Blocked by its own failed attempts (five in a window): until when, or null.
    out.put(
        "password_blocked_until",
        throttle.passwordBlockedUntil(s.username()).map(Object::toString).orElse(null));
    out.put(
        "second_step_blocked_until",
        throttle.secondStepBlockedUntil(s.username()).map(Object::toString).orElse(null));
    // Blocked from entering device codes by its own wrong ones (ten in a window).
    out.put(
        "device_codes_blocked_until",
        throttle.deviceCodesBlockedUntil(s.username()).map(Object::toString).orElse(null));
    return out;
  }

  /**
   * Lifts the blocks an account's own failed attempts put on it (password, second step and device
   * codes) and forgets those failures, for a person who calls the helpdesk and should not wait 15
   * minutes; {@code "lifted": false} when there was nothing to lift. 404 for no such account.
   */
  @DeleteMapping(
      value = "/sso/v1/accounts/{username}/sign-in-blocks",
      produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> liftSignInBlocks(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String username) {
    String actor = admins.require(auth);
    boolean lifted =
        accounts.liftSignInBlocks(actor, username, audit).orElseThrow(ClientAdmin.NotFound::new);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("username", io.yinxin.sso.account.Accounts.canonical(username).orElseThrow());
    out.put("lifted", lifted);
    return out;
  }

  /**
   * Resets a forgotten password: a new one-time password, answered this once, replaces it and must
   * be replaced at the next sign-in; every session and token of the account ends (its clients are
   * told), and the account's sign-in blocks are lifted. 404 for no such account.
   */
  @PostMapping(
      value = "/sso/v1/accounts/{username}/password-reset",
      produces = MediaType.APPLICATION_JSON_VALUE)
  public ResponseEntity<Map<String, Object>> resetPassword(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String username,
      HttpServletRequest request) {
    String actor = admins.require(auth);
    String password =
        accounts
            .resetWithOneTimePassword(actor, username, audit)
            .orElseThrow(ClientAdmin.NotFound::new);
    String user = io.yinxin.sso.account.Accounts.canonical(username).orElseThrow();
    signOut.accept(user, request);
    throttle.unblock(user); // blocked by its own failures, perhaps: the new password works at once
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("username", user);
    out.put("one_time_password", password);
    return ResponseEntity.ok().header(HttpHeaders.CACHE_CONTROL, "no-store").body(out);
  }

  /**
   * Signs a person out everywhere (a lost laptop, a suspected break-in): every session and token of
   * the account ends and its clients are told (back-channel logout), one {@code LOGGED_OUT} event.
   * 404 for no such account.
   */
  @PostMapping(
      value = "/sso/v1/accounts/{username}/sign-out",
      produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> signOut(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String username,
      HttpServletRequest request) {
    admins.require(auth);
    String user = existing(username);
    signOut.accept(user, request);
    return Map.of("username", user);
  }

  /**
   * Enables or disables an account: {@code {"enabled": false}} (a JSON boolean). A disabled account
   * signs in by no method, and its sessions and tokens end (its clients are told). Setting what it
   * already is changes nothing ({@code "changed": false}). 404 for no such account.
   */
  @PutMapping(
      value = "/sso/v1/accounts/{username}/enabled",
      produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> setEnabled(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String username,
      HttpServletRequest request)
      throws IOException {
    String actor = admins.require(auth);
    Map<String, Object> body = object(request);
    if (body.size() != 1 || !(body.get("enabled") instanceof Boolean enabled)) {
      throw new ClientMetadata.Invalid(
          "invalid_request", "exactly one member: enabled, true or false");
    }
    boolean changed =
        accounts.setEnabled(actor, username, enabled, audit).orElseThrow(ClientAdmin.NotFound::new);
    String user = io.yinxin.sso.account.Accounts.canonical(username).orElseThrow();
    if (!enabled) {
      signOut.accept(user, request); // also when it was disabled already: nothing may be left
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("username", user);
    out.put("enabled", enabled);
    out.put("changed", changed);
    return out;
  }

  /**
   * Removes every authenticator of an account (a lost phone): its TOTP app, recovery codes and
   * passkeys; its sessions and tokens end, since whoever holds the device may be signed in. The
   * person then signs in with the password alone and sets up new ones. 404 for no such account.
   */
  @DeleteMapping(
      value = "/sso/v1/accounts/{username}/second-factors",
      produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> removeSecondFactors(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String username,
      HttpServletRequest request) {
    String actor = admins.require(auth);
    String user = existing(username);
    int[] removed = factors.removeAll(actor, user, audit);
    signOut.accept(user, request);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("username", user);
    out.put("totp", removed[0]);
    out.put("recovery_codes", removed[1]);
    out.put("passkeys", removed[2]);
    return out;
  }

  /**
   * Sets an account's real-name identity: {@code name}, optionally {@code id_number} and {@code
   * phone}, and {@code verification} ({@code self_declared}, {@code certificate}, {@code
   * federation}). The answer, like every read, shows the numbers masked only.
   */
  @PutMapping(
      value = "/sso/v1/accounts/{username}/realname",
      produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> setRealName(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String username,
      HttpServletRequest request)
      throws IOException {
    String actor = admins.require(auth);
    Map<String, Object> body = object(request);
    stringMembers(body, java.util.Set.of("name", "id_number", "phone", "verification"));
    String user =
        io.yinxin.sso.account.Accounts.canonical(username).orElseThrow(ClientAdmin.NotFound::new);
    RealNames.Masked m;
    try {
      m =
          realNames.set(
              actor,
              user,
              (String) body.get("name"),
              Optional.ofNullable((String) body.get("id_number")),
              Optional.ofNullable((String) body.get("phone")),
              (String) body.get("verification"));
    } catch (RealNames.Invalid e) {
      throw new ClientMetadata.Invalid("invalid_request", e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new ClientAdmin.NotFound();
    }
    return describe(user, m);
  }

  @GetMapping(
      value = "/sso/v1/accounts/{username}/realname",
      produces = MediaType.APPLICATION_JSON_VALUE)
  public Map<String, Object> getRealName(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String username) {
    admins.require(auth);
    String user =
        io.yinxin.sso.account.Accounts.canonical(username).orElseThrow(ClientAdmin.NotFound::new);
    return describe(user, realNames.masked(user).orElseThrow(ClientAdmin.NotFound::new));
  }

  @DeleteMapping("/sso/v1/accounts/{username}/realname")
  public ResponseEntity<Void> removeRealName(
      @RequestHeader(value = "Authorization", required = false) String auth,
      @PathVariable String username) {
    String actor = admins.require(auth);
    String user =
        io.yinxin.sso.account.Accounts.canonical(username).orElseThrow(ClientAdmin.NotFound::new);
    if (!realNames.remove(actor, user)) {
      throw new ClientAdmin.NotFound();
    }
    return ResponseEntity.noContent().build();
  }

  /** The canonical name of an account that exists; 404 otherwise. */
  private String existing(String username) {
    return accounts
        .status(username)
        .map(io.yinxin.sso.account.Accounts.Status::username)
        .orElseThrow(ClientAdmin.NotFound::new);
  }

  /** Every member is one of {@code allowed} and a string. */
  private static void stringMembers(Map<String, Object> body, java.util.Set<String> allowed) {
    for (Map.Entry<String, Object> e : body.entrySet()) {
      if (!allowed.contains(e.getKey())) {
        throw new ClientMetadata.Invalid(
            "invalid_request",
            "unknown member " + e.getKey().substring(0, Math.min(40, e.getKey().length())));
      }
      if (!(e.getValue() instanceof String)) {
        throw new ClientMetadata.Invalid("invalid_request", e.getKey() + ": a string");
      }
    }
  }

  private static Map<String, Object> describe(String username, RealNames.Masked m) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("username", username);
    out.put("name", m.name());
    m.idNumber().ifPresent(v -> out.put("id_number_masked", v));
    m.phone().ifPresent(v -> out.put("phone_masked", v));
    out.put("verification", m.verification().claim());
    out.put("verified_at", m.verifiedAt().toString());
    return out;
  }

  @ExceptionHandler(RealNames.Taken.class)
  ResponseEntity<Map<String, Object>> idTaken(RealNames.Taken e) {
    return error(HttpStatus.CONFLICT, "invalid_request", e.getMessage());
  }

  private static Map<String, Object> object(HttpServletRequest request) throws IOException {
    MediaType type;
    try {
      type = MediaType.parseMediaType(String.valueOf(request.getContentType()));
    } catch (RuntimeException e) {
      type = MediaType.ALL;
    }
    if (!MediaType.APPLICATION_JSON.equalsTypeAndSubtype(type)) {
      throw new ClientMetadata.Invalid("invalid_request", "Content-Type: application/json");
    }
    if (request.getContentLengthLong() > MAX_BODY) {
      throw new TooLarge();
    }
    byte[] body;
    try (InputStream in = request.getInputStream()) {
      body = in.readNBytes(MAX_BODY + 1);
    }
    if (body.length > MAX_BODY) {
      throw new TooLarge();
    }
    try {
      Object v = JSON.readValue(body, Object.class);
      if (!(v instanceof Map<?, ?> m)) {
        throw new ClientMetadata.Invalid("invalid_request", "the body is not a JSON object");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> map = new LinkedHashMap<>((Map<String, Object>) m);
      return map;
    } catch (JacksonException e) {
      throw new ClientMetadata.Invalid(
          "invalid_request", "the body is not JSON (or repeats a member)");
    }
  }

  static final class TooLarge extends RuntimeException {
    TooLarge() {
      super("the body is larger than " + MAX_BODY, null, false, false);
    }
  }

  @ExceptionHandler(ClientMetadata.Invalid.class)
  ResponseEntity<Map<String, Object>> invalid(ClientMetadata.Invalid e) {
    return error(HttpStatus.BAD_REQUEST, e.error(), e.getMessage());
  }

  /**
   * A query parameter the node refused before the handler ran (given twice, say: {@code
   * limit=5&limit=6}), in this API's error form rather than Spring's.
   */
  @ExceptionHandler(
      org.springframework.web.method.annotation.MethodArgumentTypeMismatchException.class)
  ResponseEntity<Map<String, Object>> malformed(
      org.springframework.web.method.annotation.MethodArgumentTypeMismatchException e) {
    return error(
        HttpStatus.BAD_REQUEST, "invalid_request", e.getName() + ": malformed or given twice");
  }

  @ExceptionHandler(TooLarge.class)
  ResponseEntity<Map<String, Object>> tooLarge(TooLarge e) {
    return error(HttpStatus.CONTENT_TOO_LARGE, "invalid_request", e.getMessage());
  }

  @ExceptionHandler(SsoAdmins.Refused.class)
  ResponseEntity<Map<String, Object>> refused(SsoAdmins.Refused e) {
    ResponseEntity<Map<String, Object>> r =
        error(
            HttpStatus.valueOf(e.status()),
            e.status() == 401 ? "invalid_token" : "insufficient_scope",
            e.getMessage());
    return ResponseEntity.status(r.getStatusCode())
        .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"yinxin-sso\"")
        .body(r.getBody());
  }

  @ExceptionHandler(ClientAdmin.NotFound.class)
  ResponseEntity<Map<String, Object>> notFound(ClientAdmin.NotFound e) {
    return error(HttpStatus.NOT_FOUND, "not_found", e.getMessage());
  }

  @ExceptionHandler(ClientAdmin.Taken.class)
  ResponseEntity<Map<String, Object>> taken(ClientAdmin.Taken e) {
    return error(HttpStatus.CONFLICT, "invalid_client_metadata", e.getMessage());
  }

  @ExceptionHandler(AuditException.class)
  ResponseEntity<Map<String, Object>> unavailable(AuditException e) {
    return error(HttpStatus.SERVICE_UNAVAILABLE, "temporarily_unavailable", "try again later");
  }

  private static ResponseEntity<Map<String, Object>> error(
      HttpStatus status, String error, String description) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("error", error);
    m.put("error_description", description);
    return ResponseEntity.status(status).header(HttpHeaders.CACHE_CONTROL, "no-store").body(m);
  }
}
