package io.yinxin.sso.web;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.Serializable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.springframework.security.web.webauthn.api.AttestationConveyancePreference;
import org.springframework.security.web.webauthn.api.AuthenticationExtensionsClientInput;
import org.springframework.security.web.webauthn.api.AuthenticationExtensionsClientInputs;
import org.springframework.security.web.webauthn.api.AuthenticatorAttachment;
import org.springframework.security.web.webauthn.api.AuthenticatorSelectionCriteria;
import org.springframework.security.web.webauthn.api.AuthenticatorTransport;
import org.springframework.security.web.webauthn.api.Bytes;
import org.springframework.security.web.webauthn.api.ImmutableAuthenticationExtensionsClientInputs;
import org.springframework.security.web.webauthn.api.ImmutablePublicKeyCredentialUserEntity;
import org.springframework.security.web.webauthn.api.PublicKeyCredentialCreationOptions;
import org.springframework.security.web.webauthn.api.PublicKeyCredentialDescriptor;
import org.springframework.security.web.webauthn.api.PublicKeyCredentialParameters;
import org.springframework.security.web.webauthn.api.PublicKeyCredentialRequestOptions;
import org.springframework.security.web.webauthn.api.PublicKeyCredentialRpEntity;
import org.springframework.security.web.webauthn.api.PublicKeyCredentialType;
import org.springframework.security.web.webauthn.api.ResidentKeyRequirement;
import org.springframework.security.web.webauthn.api.UserVerificationRequirement;
import org.springframework.security.web.webauthn.authentication.PublicKeyCredentialRequestOptionsRepository;
import org.springframework.security.web.webauthn.registration.PublicKeyCredentialCreationOptionsRepository;

/**
 * The options of a passkey ceremony between its two requests (the challenge the authenticator
 * signs), kept in the person's session for at most five minutes, so a ceremony begun on one node
 * finishes on any other (sessions live in the database or Redis) and nothing a stranger does can
 * push another person's ceremony out: each session holds at most one of each kind.
 *
 * <p>Spring keeps the options objects themselves as session attributes, which a stored session
 * cannot hold (the registration options are not serializable), and Java serialization would not do
 * for the sign-in options either: Spring compares the user-verification requirement by identity
 * ({@code == UserVerificationRequirement.REQUIRED}), and a deserialized copy of that constant is
 * another object, so a ceremony that required user verification would come back not requiring it.
 * Here a ceremony is stored as plain values ({@link Creation}, {@link Request}) and rebuilt from
 * Spring's own constants.
 */
@SuppressWarnings("rawtypes") // Spring types the extension inputs raw
public final class PasskeyCeremonies {
  static final Duration LIFETIME = Duration.ofMinutes(5);
  static final String CREATION = "yinxin.passkey.creation";
  static final String REQUEST = "yinxin.passkey.request";

  private final Clock clock;

  public PasskeyCeremonies(Clock clock) {
    this.clock = clock;
  }

  /** A credential named in a ceremony: its id, type and transports, as the values they carry. */
  record Credential(byte[] id, String type, List<String> transports) implements Serializable {
    static Credential of(PublicKeyCredentialDescriptor d) {
      List<String> transports = new ArrayList<>();
      if (d.getTransports() != null) {
        d.getTransports().forEach(t -> transports.add(t.getValue()));
      }
      return new Credential(
          d.getId().getBytes(), d.getType() == null ? null : d.getType().getValue(), transports);
    }

    PublicKeyCredentialDescriptor descriptor() {
      Set<AuthenticatorTransport> t = new LinkedHashSet<>();
      transports.forEach(v -> t.add(AuthenticatorTransport.valueOf(v)));
      var b = PublicKeyCredentialDescriptor.builder().id(new Bytes(id)).transports(t);
      if (type != null) {
        b.type(PublicKeyCredentialType.valueOf(type));
      }
      return b.build();
    }

    static List<Credential> all(List<PublicKeyCredentialDescriptor> descriptors) {
      List<Credential> all = new ArrayList<>();
      if (descriptors != null) {
        descriptors.forEach(d -> all.add(of(d)));
      }
      return all;
    }

    static List<PublicKeyCredentialDescriptor> descriptors(List<Credential> all) {
      List<PublicKeyCredentialDescriptor> d = new ArrayList<>();
      all.forEach(c -> d.add(c.descriptor()));
      return d;
    }
  }

  /** A sign-in ceremony's options as plain values. */
  record Request(
      byte[] challenge,
      Long timeoutMillis,
      String rpId,
      List<Credential> allowCredentials,
      String userVerification,
      ArrayList<AuthenticationExtensionsClientInput> extensions,
      Instant until)
      implements Serializable {
    static Request of(PublicKeyCredentialRequestOptions o, Instant until) {
      return new Request(
          o.getChallenge().getBytes(),
          o.getTimeout() == null ? null : o.getTimeout().toMillis(),
          o.getRpId(),
          Credential.all(o.getAllowCredentials()),
          o.getUserVerification() == null ? null : o.getUserVerification().getValue(),
          inputs(o.getExtensions()),
          until);
    }

    PublicKeyCredentialRequestOptions options() {
      var b =
          PublicKeyCredentialRequestOptions.builder()
              .challenge(new Bytes(challenge))
              .rpId(rpId)
              .allowCredentials(Credential.descriptors(allowCredentials))
              .userVerification(requirement(userVerification));
      if (timeoutMillis != null) {
        b.timeout(Duration.ofMillis(timeoutMillis));
      }
      if (extensions != null) {
        b.extensions(new ImmutableAuthenticationExtensionsClientInputs(List.copyOf(extensions)));
      }
      return b.build();
    }
  }

  /** A registration ceremony's options as plain values. */
  record Creation(
      String rpId,
      String rpName,
      byte[] userId,
      String userName,
      String userDisplayName,
      byte[] challenge,
      List<Long> algorithms,
      Long timeoutMillis,
      List<Credential> excludeCredentials,
      String attachment,
      String residentKey,
      String userVerification,
      String attestation,
      ArrayList<AuthenticationExtensionsClientInput> extensions,
      Instant until)
      implements Serializable {
    static Creation of(PublicKeyCredentialCreationOptions o, Instant until) {
      List<Long> algorithms = new ArrayList<>();
      o.getPubKeyCredParams().forEach(p -> algorithms.add(p.getAlg().getValue()));
      AuthenticatorSelectionCriteria s = o.getAuthenticatorSelection();
      return new Creation(
          o.getRp().getId(),
          o.getRp().getName(),
          o.getUser().getId().getBytes(),
          o.getUser().getName(),
          o.getUser().getDisplayName(),
          o.getChallenge().getBytes(),
          algorithms,
          o.getTimeout() == null ? null : o.getTimeout().toMillis(),
          Credential.all(o.getExcludeCredentials()),
          s == null || s.getAuthenticatorAttachment() == null
              ? null
              : s.getAuthenticatorAttachment().getValue(),
          s == null || s.getResidentKey() == null ? null : s.getResidentKey().getValue(),
          s == null || s.getUserVerification() == null ? null : s.getUserVerification().getValue(),
          o.getAttestation() == null ? null : o.getAttestation().getValue(),
          inputs(o.getExtensions()),
          until);
    }

    PublicKeyCredentialCreationOptions options() {
      List<PublicKeyCredentialParameters> params = new ArrayList<>();
      algorithms.forEach(a -> params.add(parameters(a)));
      var b =
          PublicKeyCredentialCreationOptions.builder()
              .rp(PublicKeyCredentialRpEntity.builder().id(rpId).name(rpName).build())
              .user(
                  ImmutablePublicKeyCredentialUserEntity.builder()
                      .id(new Bytes(userId))
                      .name(userName)
                      .displayName(userDisplayName)
                      .build())
              .challenge(new Bytes(challenge))
              .pubKeyCredParams(params)
              .excludeCredentials(Credential.descriptors(excludeCredentials));
      if (timeoutMillis != null) {
        b.timeout(Duration.ofMillis(timeoutMillis));
      }
      if (attachment != null || residentKey != null || userVerification != null) {
        var s = AuthenticatorSelectionCriteria.builder();
        if (attachment != null) {
          s.authenticatorAttachment(AuthenticatorAttachment.valueOf(attachment));
        }
        if (residentKey != null) {
          s.residentKey(ResidentKeyRequirement.valueOf(residentKey));
        }
        s.userVerification(requirement(userVerification));
        b.authenticatorSelection(s.build());
      }
      if (attestation != null) {
        b.attestation(AttestationConveyancePreference.valueOf(attestation));
      }
      if (extensions != null) {
        b.extensions(new ImmutableAuthenticationExtensionsClientInputs(List.copyOf(extensions)));
      }
      return b.build();
    }
  }

  private static ArrayList<AuthenticationExtensionsClientInput> inputs(
      AuthenticationExtensionsClientInputs extensions) {
    return extensions == null ? null : new ArrayList<>(extensions.getInputs());
  }

  /** Spring's own constant for a requirement's value (Spring compares them by identity). */
  static UserVerificationRequirement requirement(String value) {
    if (value == null) {
      return null;
    }
    for (UserVerificationRequirement r :
        List.of(
            UserVerificationRequirement.REQUIRED,
            UserVerificationRequirement.PREFERRED,
            UserVerificationRequirement.DISCOURAGED)) {
      if (r.getValue().equals(value)) {
        return r;
      }
    }
    throw new IllegalStateException("unknown user verification requirement");
  }

  private static PublicKeyCredentialParameters parameters(long algorithm) {
    for (PublicKeyCredentialParameters p :
        List.of(
            PublicKeyCredentialParameters.EdDSA,
            PublicKeyCredentialParameters.ES256,
            PublicKeyCredentialParameters.ES384,
            PublicKeyCredentialParameters.ES512,
            PublicKeyCredentialParameters.RS256,
            PublicKeyCredentialParameters.RS384,
            PublicKeyCredentialParameters.RS512,
            PublicKeyCredentialParameters.RS1)) {
      if (p.getAlg().getValue() == algorithm) {
        return p;
      }
    }
    throw new IllegalStateException("unknown COSE algorithm " + algorithm);
  }

  private void put(HttpServletRequest request, String name, Serializable ceremony) {
    if (ceremony == null) {
      HttpSession session = request.getSession(false);
      if (session != null) {
        session.removeAttribute(name);
      }
      return;
    }
    request.getSession().setAttribute(name, ceremony);
  }

  /**
   * The ceremony waiting in the session, taken out of it (a challenge is answered once), or null if
   * there is none, it is older than {@link #LIFETIME}, or it is not of this kind.
   */
  private <T> T take(
      HttpServletRequest request,
      String name,
      Class<T> kind,
      java.util.function.Function<T, Instant> until) {
    HttpSession session = request.getSession(false);
    Object ceremony = session == null ? null : session.getAttribute(name);
    if (ceremony == null) {
      return null;
    }
    session.removeAttribute(name);
    if (!kind.isInstance(ceremony) || !until.apply(kind.cast(ceremony)).isAfter(clock.instant())) {
      return null;
    }
    return kind.cast(ceremony);
  }

  /** Where registration ceremonies wait. */
  public PublicKeyCredentialCreationOptionsRepository creations() {
    return new PublicKeyCredentialCreationOptionsRepository() {
      @Override
      public void save(
          HttpServletRequest request,
          HttpServletResponse response,
          PublicKeyCredentialCreationOptions options) {
        put(
            request,
            CREATION,
            options == null ? null : Creation.of(options, clock.instant().plus(LIFETIME)));
      }

      @Override
      public PublicKeyCredentialCreationOptions load(HttpServletRequest request) {
        Creation c = take(request, CREATION, Creation.class, Creation::until);
        return c == null ? null : c.options();
      }
    };
  }

  /** Where sign-in ceremonies wait. */
  public PublicKeyCredentialRequestOptionsRepository requests() {
    return new PublicKeyCredentialRequestOptionsRepository() {
      @Override
      public void save(
          HttpServletRequest request,
          HttpServletResponse response,
          PublicKeyCredentialRequestOptions options) {
        put(
            request,
            REQUEST,
            options == null ? null : Request.of(options, clock.instant().plus(LIFETIME)));
      }

      @Override
      public PublicKeyCredentialRequestOptions load(HttpServletRequest request) {
        Request r = take(request, REQUEST, Request.class, Request::until);
        return r == null ? null : r.options();
      }
    };
  }
}
