package io.yinxin.sso.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collections;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.mock.web.MockHttpSession;
import org.springframework.security.authentication.TestingAuthenticationToken;
import org.springframework.security.web.webauthn.api.PublicKeyCredentialCreationOptions;
import org.springframework.security.web.webauthn.api.PublicKeyCredentialRequestOptions;
import org.springframework.security.web.webauthn.api.PublicKeyCredentialRpEntity;
import org.springframework.security.web.webauthn.api.UserVerificationRequirement;
import org.springframework.security.web.webauthn.jackson.WebauthnJacksonModule;
import org.springframework.security.web.webauthn.management.ImmutablePublicKeyCredentialCreationOptionsRequest;
import org.springframework.security.web.webauthn.management.ImmutablePublicKeyCredentialRequestOptionsRequest;
import org.springframework.security.web.webauthn.management.MapPublicKeyCredentialUserEntityRepository;
import org.springframework.security.web.webauthn.management.MapUserCredentialRepository;
import org.springframework.security.web.webauthn.management.Webauthn4JRelyingPartyOperations;
import tools.jackson.databind.json.JsonMapper;

/**
 * A passkey ceremony stored in the session goes through Java serialization (as Spring Session does
 * for database and Redis sessions) and comes back as the options Spring made: the same JSON by
 * Spring's own WebAuthn serializer (what the browser was sent), and Spring's own requirement
 * constants, which it compares by identity.
 */
class PasskeyCeremoniesTest {
  private static final JsonMapper JSON =
      JsonMapper.builder().addModule(new WebauthnJacksonModule()).build();

  private final MutableClock clock = new MutableClock();
  private final PasskeyCeremonies ceremonies = new PasskeyCeremonies(clock);

  /** Spring's relying party, as the node configures it; {@code uv} its user verification. */
  private static Webauthn4JRelyingPartyOperations relyingParty(UserVerificationRequirement uv) {
    var rp =
        new Webauthn4JRelyingPartyOperations(
            new MapPublicKeyCredentialUserEntityRepository(),
            new MapUserCredentialRepository(),
            PublicKeyCredentialRpEntity.builder().id("localhost").name("印信 Yinxin").build(),
            Set.of("http://localhost:8080"));
    // A credential the person already has (Spring names them when it knows the person).
    var known =
        java.util.List.of(
            org.springframework.security.web.webauthn.api.PublicKeyCredentialDescriptor.builder()
                .id(org.springframework.security.web.webauthn.api.Bytes.random())
                .transports(
                    org.springframework.security.web.webauthn.api.AuthenticatorTransport.USB,
                    org.springframework.security.web.webauthn.api.AuthenticatorTransport.HYBRID)
                .build());
    rp.setCustomizeRequestOptions(b -> b.userVerification(uv).allowCredentials(known));
    rp.setCustomizeCreationOptions(
        b ->
            b.excludeCredentials(known)
                .authenticatorSelection(
                    org.springframework.security.web.webauthn.api.AuthenticatorSelectionCriteria
                        .builder()
                        .userVerification(uv)
                        .residentKey(
                            org.springframework.security.web.webauthn.api.ResidentKeyRequirement
                                .REQUIRED)
                        .build()));
    return rp;
  }

  /** The request as the next request of the same session sees it: attributes serialized anew. */
  private static MockHttpServletRequest nextRequest(MockHttpServletRequest previous)
      throws Exception {
    MockHttpSession stored = new MockHttpSession();
    var s = previous.getSession(false);
    for (String name : Collections.list(s.getAttributeNames())) {
      stored.setAttribute(name, roundTrip(s.getAttribute(name)));
    }
    MockHttpServletRequest next = new MockHttpServletRequest("POST", "/login/webauthn");
    next.setSession(stored);
    return next;
  }

  private static Object roundTrip(Object o) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return in.readObject();
    }
  }

  @Test
  void aSignInCeremonyComesBackFromAStoredSessionAsSpringMadeIt() throws Exception {
    for (UserVerificationRequirement uv :
        new UserVerificationRequirement[] {
          UserVerificationRequirement.REQUIRED,
          UserVerificationRequirement.PREFERRED,
          UserVerificationRequirement.DISCOURAGED
        }) {
      PublicKeyCredentialRequestOptions made =
          relyingParty(uv)
              .createCredentialRequestOptions(
                  new ImmutablePublicKeyCredentialRequestOptionsRequest(null));
      MockHttpServletRequest first =
          new MockHttpServletRequest("POST", "/webauthn/authenticate/options");
      ceremonies.requests().save(first, new MockHttpServletResponse(), made);
      MockHttpServletRequest second = nextRequest(first);
      PublicKeyCredentialRequestOptions back = ceremonies.requests().load(second);
      assertThat(JSON.writeValueAsString(back)).isEqualTo(JSON.writeValueAsString(made));
      assertThat(back.getUserVerification()).isSameAs(uv);
      // Answered once: the next load finds nothing.
      assertThat(ceremonies.requests().load(second)).isNull();
    }
  }

  @Test
  void aRegistrationCeremonyComesBackFromAStoredSessionAsSpringMadeIt() throws Exception {
    PublicKeyCredentialCreationOptions made =
        relyingParty(UserVerificationRequirement.REQUIRED)
            .createPublicKeyCredentialCreationOptions(
                new ImmutablePublicKeyCredentialCreationOptionsRequest(
                    new TestingAuthenticationToken("wuba", null, "ROLE_USER")));
    assertThat(made.getExtensions().getInputs()).isNotEmpty(); // credProps
    MockHttpServletRequest first = new MockHttpServletRequest("POST", "/webauthn/register/options");
    ceremonies.creations().save(first, new MockHttpServletResponse(), made);
    PublicKeyCredentialCreationOptions back = ceremonies.creations().load(nextRequest(first));
    assertThat(JSON.writeValueAsString(back)).isEqualTo(JSON.writeValueAsString(made));
    assertThat(back.getAuthenticatorSelection().getUserVerification())
        .isSameAs(UserVerificationRequirement.REQUIRED);
  }

  /**
   * Why the options are not stored as Spring's objects: Java serialization gives back another
   * object for the requirement, and Spring's {@code == REQUIRED} no longer holds.
   */
  @Test
  void springsOwnOptionsWouldLoseTheirRequirementThroughSerialization() throws Exception {
    PublicKeyCredentialRequestOptions made =
        relyingParty(UserVerificationRequirement.REQUIRED)
            .createCredentialRequestOptions(
                new ImmutablePublicKeyCredentialRequestOptionsRequest(null));
    var copy = (PublicKeyCredentialRequestOptions) roundTrip(made);
    assertThat(copy.getUserVerification()).isNotSameAs(UserVerificationRequirement.REQUIRED);
  }

  @Test
  void aCeremonyOlderThanFiveMinutesIsGoneAndASessionHoldsOneOfEachKind() throws Exception {
    var rp = relyingParty(UserVerificationRequirement.PREFERRED);
    MockHttpServletRequest first =
        new MockHttpServletRequest("POST", "/webauthn/authenticate/options");
    var older =
        rp.createCredentialRequestOptions(
            new ImmutablePublicKeyCredentialRequestOptionsRequest(null));
    var newer =
        rp.createCredentialRequestOptions(
            new ImmutablePublicKeyCredentialRequestOptionsRequest(null));
    ceremonies.requests().save(first, new MockHttpServletResponse(), older);
    ceremonies.requests().save(first, new MockHttpServletResponse(), newer);
    assertThat(Collections.list(first.getSession().getAttributeNames())).hasSize(1);
    clock.advance(PasskeyCeremonies.LIFETIME.minusSeconds(1));
    assertThat(ceremonies.requests().load(nextRequest(first)).getChallenge())
        .isEqualTo(newer.getChallenge());

    ceremonies.requests().save(first, new MockHttpServletResponse(), older);
    clock.advance(PasskeyCeremonies.LIFETIME);
    MockHttpServletRequest late = nextRequest(first);
    assertThat(ceremonies.requests().load(late)).isNull();
    assertThat(late.getSession().getAttribute(PasskeyCeremonies.REQUEST)).isNull();
    // A request without a session starts none by asking.
    MockHttpServletRequest none = new MockHttpServletRequest("POST", "/login/webauthn");
    assertThat(ceremonies.requests().load(none)).isNull();
    assertThat(none.getSession(false)).isNull();
  }

  private static final class MutableClock extends Clock {
    private Instant now = Instant.parse("2026-12-07T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
