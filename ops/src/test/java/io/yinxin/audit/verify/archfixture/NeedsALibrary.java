package io.yinxin.audit.verify.archfixture;

/**
 * ArchitectureTest fixture: offline-verifier code that needs a library (a deliberate violation).
 */
public final class NeedsALibrary {
  public Class<?> library() {
    return org.bouncycastle.asn1.ASN1Object.class;
  }
}
