package io.yinxin.sso.account;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.springframework.security.authentication.InternalAuthenticationServiceException;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.core.userdetails.UsernameNotFoundException;
import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * Accounts of people who sign in, in {@code sso.accounts}. Passwords are Argon2id at Keycloak's
 * default strength (7 MiB, 5 iterations, parallelism 1; 16-byte salt, 32-byte hash): as strong as
 * the field's usual provider, computed by {@link Argon2idPasswords}. A username is case-folded to
 * one spelling before it is stored or looked up, so two spellings cannot be two accounts.
 */
public final class Accounts implements UserDetailsService {
  private static final Pattern USERNAME = Pattern.compile("[a-z0-9][a-z0-9._@-]{0,99}");

  /** The authority of an account that administers this provider. */
  public static final String ADMINISTRATOR = "ROLE_SSO_ADMIN";

  /** The encoder every password goes through (in Unicode NFKC, see {@link PasswordRules}). */
  public static PasswordEncoder passwords() {
    return PasswordRules.normalizing(new Argon2idPasswords(16, 32, 1, 7 * 1024, 5));
  }

  private final DataSource dataSource;
  private final PasswordEncoder passwords;
  private final Clock clock;
  private final BreachedPasswords breached;

  public Accounts(
      DataSource dataSource, PasswordEncoder passwords, BreachedPasswords breached, Clock clock) {
    this.dataSource = dataSource;
    this.passwords = passwords;
    this.breached = breached;
    this.clock = clock;
  }

  /**
   * Why {@code password} may not be the new password of {@code username}: {@link PasswordRules},
   * then the list of breached passwords; empty if it may.
   */
  public Optional<PasswordRules.Problem> problemWith(String username, String password) {
    return PasswordRules.check(username, password)
        .or(
            () ->
                breached.contains(password)
                    ? Optional.of(PasswordRules.Problem.BREACHED)
                    : Optional.empty());
  }

  /** The one spelling of a username, or empty when it is not a valid one. */
  public static Optional<String> canonical(String username) {
    if (username == null) {
      return Optional.empty();
    }
    // NFKC first: a name typed in full-width letters (ｚｈａｎｇｓａｎ) is the same name.
    String u =
        java.text.Normalizer.normalize(username, java.text.Normalizer.Form.NFKC)
            .strip()
            .toLowerCase(java.util.Locale.ROOT);
    return USERNAME.matcher(u).matches() ? Optional.of(u) : Optional.empty();
  }

  /**
   * Creates an account.
   *
   * @return false when the username is taken
   * @throws IllegalArgumentException for an invalid username or a password under 12 characters
   */
  public boolean create(String username, String password, String displayName) {
    String u =
        canonical(username).orElseThrow(() -> new IllegalArgumentException("invalid username"));
    if (password == null || password.length() < 12) {
      throw new IllegalArgumentException("a password needs at least 12 characters");
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO sso.accounts (username, password_hash, display_name, enabled,"
                    + " created_at) VALUES (?, ?, ?, TRUE, ?)")) {
      ps.setString(1, u);
      ps.setString(2, passwords.encode(password));
      ps.setString(3, displayName);
      ps.setTimestamp(4, Timestamp.from(clock.instant()));
      ps.executeUpdate();
      return true;
    } catch (SQLException e) {
      if ("23505".equals(e.getSQLState())) {
        return false;
      }
      throw new IllegalStateException("cannot store the account", e);
    }
  }

  /**
   * Creates a person's account, as an administrator does, with a one-time password that must be
   * replaced at the first sign-in; the account and its {@code CONFIG_CHANGED} event are one
   * transaction, and this returns once the event is in the log.
   *
   * @return the one-time password (shown once, stored only as its Argon2id hash), or empty when the
   *     username is taken
   * @throws IllegalArgumentException for an invalid username
   */
  public Optional<String> createWithOneTimePassword(
      String actor, String username, String displayName, io.yinxin.audit.AuditOutbox audit) {
    String u = canonical(username).orElseThrow(() -> new IllegalArgumentException("username"));
    if (displayName != null
        && (displayName.length() > 200 || DisplayText.problem(displayName) != null)) {
      throw new IllegalArgumentException(
          "display_name: at most 200 characters, "
              + (displayName.length() > 200 ? "no more" : DisplayText.problem(displayName)));
    }
    String password = oneTimePassword();
    String hash = passwords.encode(password);
    try {
      audit.commit(
          dataSource,
          c -> {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "INSERT INTO sso.accounts (username, password_hash, display_name, enabled,"
                        + " created_at, must_change_password) VALUES (?, ?, ?, TRUE, ?, TRUE)")) {
              ps.setString(1, u);
              ps.setString(2, hash);
              ps.setString(3, displayName == null ? u : displayName);
              ps.setTimestamp(4, Timestamp.from(clock.instant()));
              ps.executeUpdate();
            }
            return audit.record(
                c,
                io.yinxin.audit.AuditEvent.of(
                    io.yinxin.audit.EventType.CONFIG_CHANGED,
                    actor,
                    "account/" + u,
                    java.util.Map.of("change", "account created")));
          });
      return Optional.of(password);
    } catch (SQLException e) {
      if ("23505".equals(e.getSQLState())) {
        return Optional.empty();
      }
      throw new IllegalStateException("cannot store the account", e);
    }
  }

  /** A one-time password: 120 random bits, base64url (20 characters). */
  private static String oneTimePassword() {
    byte[] raw = new byte[15];
    io.yinxin.hsm.Randomness.current().nextBytes(raw);
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
  }

  /**
   * An operator's password reset (the person forgot theirs): a new one-time password replaces the
   * password, to be replaced in turn at the next sign-in, with its {@code CONFIG_CHANGED} event in
   * the same transaction. Device cookies issued under the old password stop vouching for their
   * browsers (they are bound to the stored hash). The caller ends the sessions and tokens.
   *
   * @return the one-time password, or empty when there is no such account
   */
  public Optional<String> resetWithOneTimePassword(
      String actor, String username, io.yinxin.audit.AuditOutbox audit) {
    Optional<String> u = canonical(username);
    if (u.isEmpty()) {
      return Optional.empty();
    }
    String password = oneTimePassword();
    boolean found =
        updateRecorded(
            actor,
            u.get(),
            "UPDATE sso.accounts SET password_hash = ?, must_change_password = TRUE"
                + " WHERE username = ?",
            List.of(passwords.encode(password), u.get()),
            "password reset",
            audit);
    return found ? Optional.of(password) : Optional.empty();
  }

  /**
   * An operator enables or disables an account, with its {@code CONFIG_CHANGED} event in the same
   * transaction; setting what it already is changes nothing and records nothing. A disabled account
   * signs in by no method; the caller ends its sessions and tokens.
   *
   * @return empty when there is no such account, else whether anything changed
   */
  public Optional<Boolean> setEnabled(
      String actor, String username, boolean enabled, io.yinxin.audit.AuditOutbox audit) {
    return ifExists(
        username,
        u ->
            updateRecorded(
                actor,
                u,
                "UPDATE sso.accounts SET enabled = ? WHERE username = ? AND enabled <> ?",
                List.of(enabled, u, enabled),
                enabled ? "account enabled" : "account disabled",
                audit));
  }

  /** {@code change} of the account's one spelling, or empty when there is no such account. */
  private <T> Optional<T> ifExists(String username, java.util.function.Function<String, T> change) {
    Optional<String> u = canonical(username);
    return u.isEmpty() || !exists(u.get()) ? Optional.empty() : Optional.of(change.apply(u.get()));
  }

  /**
   * One UPDATE of an account's row ({@code sql} with {@code args}) and, if it changed the row, its
   * {@code CONFIG_CHANGED} event ({@code change}), in one transaction.
   *
   * @return whether the row changed
   */
  private boolean updateRecorded(
      String actor,
      String username,
      String sql,
      List<Object> args,
      String change,
      io.yinxin.audit.AuditOutbox audit) {
    boolean[] changed = {false};
    try {
      audit.commit(
          dataSource,
          c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
              for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
              }
              changed[0] = ps.executeUpdate() > 0;
            }
            return changed[0]
                ? audit.record(
                    c,
                    io.yinxin.audit.AuditEvent.of(
                        io.yinxin.audit.EventType.CONFIG_CHANGED,
                        actor,
                        "account/" + username,
                        java.util.Map.of("change", change)))
                : null;
          });
    } catch (SQLException e) {
      throw new IllegalStateException("cannot store the account", e);
    }
    return changed[0];
  }

  /**
   * Lifts the blocks the account's own failures put on it — its password attempts, its second step
   * and its device codes — and forgets those failures (Keycloak's "unlock user"), with its {@code
   * CONFIG_CHANGED} event in the same transaction. Blocks of client addresses and device cookies
   * stay: they are not the account's.
   *
   * @return empty when there is no such account, else whether anything was lifted or forgotten
   */
  public Optional<Boolean> liftSignInBlocks(
      String actor, String username, io.yinxin.audit.AuditOutbox audit) {
    return ifExists(
        username,
        u ->
            updateRecorded(
                actor,
                u,
                "DELETE FROM sso.login_failures WHERE throttle_key IN (?, ?, ?)",
                List.of("account:" + u, "otp:" + u, "device:" + u),
                "sign-in blocks lifted",
                audit));
  }

  /** An account as an operator sees it: no password hash, no personal data but its name. */
  public record Status(
      String username,
      String displayName,
      boolean enabled,
      boolean mustChangePassword,
      boolean administrator,
      java.time.Instant createdAt) {}

  /** The account's state, or empty when there is no such account. */
  public Optional<Status> status(String username) {
    Optional<String> u = canonical(username);
    if (u.isEmpty()) {
      return Optional.empty();
    }
    List<Status> one = statuses("WHERE username = ?", List.of(u.get()), 1);
    return one.isEmpty() ? Optional.empty() : Optional.of(one.get(0));
  }

  /**
   * Accounts in username order: those after {@code after} (empty: from the first) whose username
   * starts with {@code prefix} (empty: any), at most {@code limit}. Paged by the last username
   * seen, so a page is one index range however many accounts there are.
   */
  public List<Status> list(String prefix, String after, int limit) {
    // The prefix as a LIKE pattern: '_' (allowed in usernames) and the escape itself are literal.
    String pattern = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%";
    return statuses(
        "WHERE username > ? AND username LIKE ? ESCAPE '\\' ORDER BY username",
        List.of(after, pattern),
        limit);
  }

  private List<Status> statuses(String where, List<String> args, int limit) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT username, display_name, enabled, must_change_password, administrator,"
                    + " created_at FROM sso.accounts "
                    + where
                    + " LIMIT ?")) {
      for (int i = 0; i < args.size(); i++) {
        ps.setString(i + 1, args.get(i));
      }
      ps.setInt(args.size() + 1, limit);
      List<Status> out = new java.util.ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          java.time.OffsetDateTime created = rs.getObject(6, java.time.OffsetDateTime.class);
          out.add(
              new Status(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getBoolean(3),
                  rs.getBoolean(4),
                  rs.getBoolean(5),
                  created == null ? null : created.toInstant()));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException("accounts are unavailable", e);
    }
  }

  /** Whether the account exists and may sign in (false for a disabled or unknown one). */
  public boolean isEnabled(String username) {
    return canonical(username).flatMap(this::row).map(UserDetails::isEnabled).orElse(false);
  }

  /**
   * Removes an account created a moment ago whose creation could not be completed (its real name
   * was refused), with its event.
   */
  public void removeNew(String actor, String username, io.yinxin.audit.AuditOutbox audit) {
    try {
      audit.commit(
          dataSource,
          c -> {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "DELETE FROM sso.accounts WHERE username = ? AND must_change_password")) {
              ps.setString(1, username);
              ps.executeUpdate();
            }
            return audit.record(
                c,
                io.yinxin.audit.AuditEvent.of(
                    io.yinxin.audit.EventType.CONFIG_CHANGED,
                    actor,
                    "account/" + username,
                    java.util.Map.of("change", "account removed: creation refused")));
          });
    } catch (SQLException e) {
      throw new IllegalStateException("cannot remove the account", e);
    }
  }

  /**
   * Creates the administrator account {@code username} with a one-time password that must be
   * replaced at the first sign-in, unless an administrator exists already.
   *
   * @return the one-time password, or empty when there was an administrator
   */
  public Optional<String> createAdministrator(String username) {
    String u = canonical(username).orElseThrow(() -> new IllegalArgumentException("username"));
    byte[] raw = new byte[15];
    io.yinxin.hsm.Randomness.current().nextBytes(raw);
    String password = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement ps =
              c.prepareStatement("SELECT count(*) FROM sso.accounts WHERE administrator");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (rs.getLong(1) > 0) {
          return Optional.empty();
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO sso.accounts (username, password_hash, display_name, enabled,"
                  + " created_at, must_change_password, administrator) VALUES (?, ?, ?, TRUE, ?,"
                  + " TRUE, TRUE)")) {
        ps.setString(1, u);
        ps.setString(2, passwords.encode(password));
        ps.setString(3, "管理员 Administrator");
        ps.setTimestamp(4, Timestamp.from(clock.instant()));
        ps.executeUpdate();
      }
      return Optional.of(password);
    } catch (SQLException e) {
      if ("23505".equals(e.getSQLState())) {
        return Optional.empty(); // another node created it first
      }
      throw new IllegalStateException("cannot store the administrator account", e);
    }
  }

  /** Whether {@code password} is the account's password now. */
  public boolean isCurrentPassword(String username, String password) {
    return password != null
        && passwords.matches(password, loadUserByUsername(username).getPassword());
  }

  /**
   * Replaces a password after checking the current one.
   *
   * @return false when {@code current} is wrong (nothing changes)
   */
  public boolean changePassword(String username, String current, String next) {
    UserDetails user = loadUserByUsername(username);
    if (current == null || !passwords.matches(current, user.getPassword())) {
      return false;
    }
    setPassword(user.getUsername(), next);
    return true;
  }

  /** Sets a new password and clears the must-change mark (its caller checked who asks). */
  public void setPassword(String username, String next) {
    problemWith(username, next)
        .ifPresent(
            p -> {
              throw new IllegalArgumentException("the new password is refused: " + p);
            });
    String u = canonical(username).orElseThrow(() -> new UsernameNotFoundException("no account"));
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE sso.accounts SET password_hash = ?, must_change_password = FALSE WHERE"
                    + " username = ?")) {
      ps.setString(1, passwords.encode(next));
      ps.setString(2, u);
      if (ps.executeUpdate() != 1) {
        throw new UsernameNotFoundException("no such account");
      }
    } catch (SQLException e) {
      throw new InternalAuthenticationServiceException("accounts are unavailable", e);
    }
  }

  /** The stored password hash of a canonical username (device cookies are bound to it). */
  Optional<String> passwordHash(String username) {
    return row(username).map(UserDetails::getPassword);
  }

  public boolean exists(String username) {
    return canonical(username).flatMap(this::row).isPresent();
  }

  /** The name an account shows (for a page, or a service the person signs in to). */
  public Optional<String> displayName(String username) {
    Optional<String> u = canonical(username);
    if (u.isEmpty()) {
      return Optional.empty();
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT display_name FROM sso.accounts WHERE username = ?")) {
      ps.setString(1, u.get());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new InternalAuthenticationServiceException("accounts are unavailable", e);
    }
  }

  @Override
  public UserDetails loadUserByUsername(String username) {
    return canonical(username)
        .flatMap(this::row)
        .orElseThrow(() -> new UsernameNotFoundException("no such account"));
  }

  private Optional<UserDetails> row(String username) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT username, password_hash, enabled, must_change_password, administrator FROM"
                    + " sso.accounts WHERE username = ?")) {
      ps.setString(1, username);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        // A password that must be replaced signs nobody in: Spring refuses it as expired
        // credentials, after checking it, and the sign-in page asks for a new one.
        return Optional.of(
            User.withUsername(rs.getString(1))
                .password(rs.getString(2))
                .disabled(!rs.getBoolean(3))
                .credentialsExpired(rs.getBoolean(4))
                .authorities(
                    rs.getBoolean(5)
                        ? List.of(
                            new SimpleGrantedAuthority("ROLE_USER"),
                            new SimpleGrantedAuthority(ADMINISTRATOR))
                        : List.of(new SimpleGrantedAuthority("ROLE_USER")))
                .build());
      }
    } catch (SQLException e) {
      throw new InternalAuthenticationServiceException("accounts are unavailable", e);
    }
  }
}
