package io.yinxin.sso.archfixture;

/** ArchitectureTest fixture: a class of another service, for a deliberate violation. */
public final class SsoThing {
  public static int value() {
    return 1;
  }
}
