package io.yinxin.hsm.soft.archfixture;

/** ArchitectureTest fixture: key-adapter core code that needs Spring (a deliberate violation). */
public final class NeedsSpring {
  public Class<?> spring() {
    return org.springframework.context.ApplicationContext.class;
  }
}
