package io.yinxin.ops;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import io.yinxin.ca.archfixture.Violations;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules of shared/DESIGN.md, checked on the compiled main code of every module; and
 * each rule shown to fail on a class that breaks it on purpose (test fixtures under {@code
 * archfixture} packages), so that no rule passes because it cannot fail.
 */
class ArchitectureTest {
  private static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          // Test fixtures shared as test-jars (SoftHSM, FakeVault, PostgreSQL) are tests too.
          .withImportOption(location -> !location.contains("-tests.jar"))
          .importPackages("io.yinxin");

  private static final String[] SERVICES = {
    "io.yinxin.ca..", "io.yinxin.sign..", "io.yinxin.sso.."
  };

  /**
   * Every service against every other (the fixture test shows it fails when one imports another).
   */
  static final ArchRule SERVICES_NEVER_IMPORT_EACH_OTHER =
      slices()
          .matching("io.yinxin.(ca|sign|sso)..")
          .should()
          .notDependOnEachOther()
          .because("services meet through standards (URLs, PEM anchors), not code");

  static final ArchRule SERVICES_USE_ONLY_THE_AUDIT_CLIENT_API =
      noClasses()
          .that()
          .resideInAnyPackage(SERVICES)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "io.yinxin.audit.store..", "io.yinxin.audit.http..", "io.yinxin.audit.spring..")
          .because("modules record through io.yinxin.audit.AuditLog / AuditOutbox, not its store");

  static final ArchRule THE_OFFLINE_VERIFIER_NEEDS_NOTHING_BUT_THE_JDK =
      noClasses()
          .that()
          .resideInAnyPackage(
              "io.yinxin.audit.verify..",
              "io.yinxin.audit.merkle..",
              "io.yinxin.audit.note..",
              "io.yinxin.audit.evidence..")
          .should()
          .dependOnClassesThat()
          .resideOutsideOfPackages(
              "java..",
              // X500Principal, the JDK's (java.base) name type for certificates
              "javax.security.auth.x500..",
              "io.yinxin.audit.verify..",
              "io.yinxin.audit.merkle..",
              "io.yinxin.audit.note..",
              "io.yinxin.audit.evidence..")
          .because("audit-verify.jar ships these packages alone");

  static final ArchRule ONLY_THE_HSM_ADAPTER_TOUCHES_PRIVATE_KEY_MATERIAL =
      noClasses()
          .that()
          .resideOutsideOfPackage("io.yinxin.hsm..")
          .should()
          .dependOnClassesThat()
          .haveFullyQualifiedName("java.security.KeyStore")
          .orShould()
          .dependOnClassesThat()
          .haveFullyQualifiedName("java.security.KeyPairGenerator")
          .orShould()
          .dependOnClassesThat()
          .haveFullyQualifiedName("java.security.PrivateKey")
          .orShould()
          .dependOnClassesThat()
          .areAssignableTo(java.security.PrivateKey.class)
          .orShould()
          .callMethod(java.security.KeyPair.class, "getPrivate")
          .orShould()
          .callMethod(java.security.Signature.class, "initSign", java.security.PrivateKey.class)
          .orShould()
          .callMethod(
              java.security.KeyFactory.class, "generatePrivate", java.security.spec.KeySpec.class)
          .orShould()
          .dependOnClassesThat()
          .haveNameMatching("org\\.bouncycastle\\..*Private.*Param.*")
          .orShould()
          .dependOnClassesThat()
          .resideInAnyPackage("org.xipki..", "io.github.jopenlibs.vault..", "sun.security.pkcs11..")
          .because("private keys are created in and never leave the key backend");

  static final ArchRule KEY_BACKENDS_ARE_REACHED_ONLY_THROUGH_KEY_SERVICE =
      noClasses()
          .that()
          .resideOutsideOfPackage("io.yinxin.hsm..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "io.yinxin.hsm.pkcs11..", "io.yinxin.hsm.vault..", "io.yinxin.hsm.soft..");

  static final ArchRule THE_HSM_ADAPTER_CORE_WORKS_WITHOUT_SPRING =
      noClasses()
          .that()
          .resideInAnyPackage(
              "io.yinxin.hsm",
              "io.yinxin.hsm.pkcs11..",
              "io.yinxin.hsm.vault..",
              "io.yinxin.hsm.soft..",
              "io.yinxin.hsm.bridge..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.springframework..");

  /**
   * Skipping the key-use audit event is for the callers that record the use in their own event: the
   * CA's issuance (CERT_ISSUED names the key), its OCSP signer and the TSA (a per-key tally of what
   * anyone may ask for), the SSO's access-token encoder (TOKEN_ISSUED names the key) and the PAdES
   * seal's CMS, whose only recorded caller is {@code PadesSealer.sealAndRecord} (DOCUMENT_SEALED
   * names the key), and the remote signing API's signHash (HASH_SIGNED names the key and every
   * digest).
   */
  static final ArchRule ONLY_NAMED_CALLERS_RECORD_KEY_USE_THEMSELVES =
      noClasses()
          .that()
          .resideOutsideOfPackage("io.yinxin.hsm..")
          .and()
          .doNotHaveFullyQualifiedName("io.yinxin.ca.issue.Issuer")
          .and()
          .doNotHaveFullyQualifiedName("io.yinxin.ca.ocsp.OcspSigner")
          .and()
          .doNotHaveFullyQualifiedName("io.yinxin.sign.tsa.TimeStampAuthority")
          .and()
          .doNotHaveFullyQualifiedName("io.yinxin.ca.issue.IssuanceService")
          .and()
          .doNotHaveFullyQualifiedName("io.yinxin.sso.token.KeyServiceJwtEncoder")
          .and()
          .doNotHaveFullyQualifiedName("io.yinxin.sign.pades.CadesSignature")
          .and()
          .doNotHaveFullyQualifiedName("io.yinxin.sign.http.CscController")
          .and()
          .doNotHaveFullyQualifiedName("io.yinxin.audit.store.EventCipher")
          .should()
          .callMethodWhere(
              com.tngtech.archunit.core.domain.JavaCall.Predicates.target(
                  com.tngtech.archunit.base.DescribedPredicate.describe(
                      "a sign or data-key method that leaves the key-use record to its caller",
                      t ->
                          t.getName().equals("signRecordedByCaller")
                              || t.getName().equals("signDigestRecordedByCaller")
                              || t.getName().equals("encryptRecordedByCaller")
                              || t.getName().equals("decryptRecordedByCaller")
                              || t.getName().equals("signerRecordedByCaller")
                              || (t.getName().equals("recordedByCaller")
                                  && (t.getOwner()
                                          .getName()
                                          .equals("io.yinxin.hsm.bridge.KeyServiceContentSigner")
                                      || t.getOwner()
                                          .getName()
                                          .equals("io.yinxin.hsm.bridge.KeyServiceJwsSigner"))))))
          .because("no caller may skip the record of a key use unless it records the use itself");

  static final List<ArchRule> RULES =
      List.of(
          SERVICES_NEVER_IMPORT_EACH_OTHER,
          SERVICES_USE_ONLY_THE_AUDIT_CLIENT_API,
          THE_OFFLINE_VERIFIER_NEEDS_NOTHING_BUT_THE_JDK,
          ONLY_THE_HSM_ADAPTER_TOUCHES_PRIVATE_KEY_MATERIAL,
          KEY_BACKENDS_ARE_REACHED_ONLY_THROUGH_KEY_SERVICE,
          THE_HSM_ADAPTER_CORE_WORKS_WITHOUT_SPRING,
          ONLY_NAMED_CALLERS_RECORD_KEY_USE_THEMSELVES);

  @Test
  void theMainCodeOfEveryModuleKeepsEveryRule() {
    // The import found the modules' code: a rule over nothing would pass for nothing.
    assertThat(CLASSES.containPackage("io.yinxin.ca.issue")).isTrue();
    assertThat(CLASSES.containPackage("io.yinxin.hsm.soft")).isTrue();
    assertThat(CLASSES.containPackage("io.yinxin.audit.verify")).isTrue();
    for (ArchRule rule : RULES) {
      rule.check(CLASSES);
    }
  }

  @Test
  void everyRuleFailsOnAClassThatBreaksIt() {
    Map<ArchRule, List<Class<?>>> breakers = new LinkedHashMap<>();
    breakers.put(
        SERVICES_NEVER_IMPORT_EACH_OTHER,
        List.of(Violations.ImportsAnotherService.class, io.yinxin.sso.archfixture.SsoThing.class));
    breakers.put(
        SERVICES_USE_ONLY_THE_AUDIT_CLIENT_API, List.of(Violations.UsesTheAuditStore.class));
    breakers.put(
        THE_OFFLINE_VERIFIER_NEEDS_NOTHING_BUT_THE_JDK,
        List.of(io.yinxin.audit.verify.archfixture.NeedsALibrary.class));
    for (Class<?> c :
        List.<Class<?>>of(
            Violations.HoldsAPrivateKey.class,
            Violations.InitialisesASigner.class,
            Violations.DecodesAPrivateKey.class,
            Violations.UsesBouncyCastlePrivateParameters.class)) {
      assertThat(
              ONLY_THE_HSM_ADAPTER_TOUCHES_PRIVATE_KEY_MATERIAL
                  .evaluate(new ClassFileImporter().importClasses(c))
                  .hasViolation())
          .as("private key rule on %s", c.getSimpleName())
          .isTrue();
    }
    breakers.put(
        KEY_BACKENDS_ARE_REACHED_ONLY_THROUGH_KEY_SERVICE,
        List.of(Violations.UsesASoftBackend.class));
    breakers.put(
        THE_HSM_ADAPTER_CORE_WORKS_WITHOUT_SPRING,
        List.of(io.yinxin.hsm.soft.archfixture.NeedsSpring.class));
    breakers.put(
        ONLY_NAMED_CALLERS_RECORD_KEY_USE_THEMSELVES,
        List.of(
            Violations.SkipsTheKeyUseRecord.class, Violations.OpensWithoutTheKeyUseRecord.class));
    assertThat(breakers.keySet()).hasSize(RULES.size() - 1); // the private key rule is above
    for (var e : breakers.entrySet()) {
      JavaClasses broken = new ClassFileImporter().importClasses(e.getValue());
      assertThat(e.getKey().evaluate(broken).hasViolation())
          .as("%s fails on %s", e.getKey().getDescription(), e.getValue())
          .isTrue();
    }
    // The data-key breaker on its own too: the signing one must not cover for it.
    assertThat(
            ONLY_NAMED_CALLERS_RECORD_KEY_USE_THEMSELVES
                .evaluate(
                    new ClassFileImporter()
                        .importClasses(Violations.OpensWithoutTheKeyUseRecord.class))
                .hasViolation())
        .isTrue();
  }
}
