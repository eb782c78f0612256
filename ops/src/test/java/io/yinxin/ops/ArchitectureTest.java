package io.yinxin.ops;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The dependency rules of shared/DESIGN.md, checked on the compiled main code of every module. */
class ArchitectureTest {
  private static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          // Test fixtures shared as test-jars (SoftHSM, FakeVault, PostgreSQL) are tests too.
          .withImportOption(location -> !location.contains("-tests.jar"))
          .importPackages("io.yinxin");

  @Test
  void servicesNeverImportEachOther() {
    slices()
        .matching("io.yinxin.(ca|signing|sso)..")
        .should()
        .notDependOnEachOther()
        .allowEmptyShould(true)
        .because("services meet through standards (URLs, PEM anchors), not code")
        .check(CLASSES);
  }

  @Test
  void servicesUseOnlyTheAuditLogClientApi() {
    noClasses()
        .that()
        .resideInAnyPackage("io.yinxin.ca..", "io.yinxin.signing..", "io.yinxin.sso..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.yinxin.audit.store..", "io.yinxin.audit.http..", "io.yinxin.audit.spring..")
        .allowEmptyShould(true)
        .because("modules append through io.yinxin.audit.AuditLog, in-process or over HTTP")
        .check(CLASSES);
  }

  @Test
  void theOfflineVerifierNeedsNothingButTheJdk() {
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
        .because("audit-verify.jar ships these packages alone")
        .check(CLASSES);
  }

  @Test
  void onlyTheHsmAdapterTouchesPrivateKeyMaterial() {
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
        .callMethod(java.security.KeyPair.class, "getPrivate")
        .orShould()
        .dependOnClassesThat()
        .resideInAnyPackage("org.xipki..", "io.github.jopenlibs.vault..", "sun.security.pkcs11..")
        .because("private keys are created in and never leave the key backend")
        .check(CLASSES);
  }

  @Test
  void keyBackendsAreReachedOnlyThroughKeyService() {
    noClasses()
        .that()
        .resideOutsideOfPackage("io.yinxin.hsm..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.yinxin.hsm.pkcs11..", "io.yinxin.hsm.vault..", "io.yinxin.hsm.soft..")
        .check(CLASSES);
  }

  @Test
  void theHsmAdapterCoreWorksWithoutSpring() {
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
        .resideInAPackage("org.springframework..")
        .check(CLASSES);
  }
}
