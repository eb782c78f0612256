package io.yinxin.sign.spring;

import javax.sql.DataSource;

/** Proof that schema {@code sign} is migrated: beans that use it depend on this one. */
public final class SignSchema {
  private SignSchema() {}

  /**
   * Migrates schema {@code sign} with its own Flyway history table ({@code sign.flyway_history}).
   */
  public static SignSchema migrate(DataSource dataSource) {
    org.flywaydb.core.Flyway.configure()
        .dataSource(dataSource)
        .schemas("sign")
        .createSchemas(true)
        .locations("classpath:db/sign")
        .table("flyway_history")
        .load()
        .migrate();
    return new SignSchema();
  }
}
