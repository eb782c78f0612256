package io.yinxin.sso.spring;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Schema {@code sso}, migrated with its own Flyway history, and a view of the data source whose
 * connections start in it: the authorization server's JDBC services name their tables without a
 * schema. A pooled connection's schema is reset when it returns to the pool (HikariCP resets what a
 * borrower changed), so other modules, which name their schemas, are not affected.
 */
public final class SsoSchema {
  static final String NAME = "sso";

  private final DataSource inSchema;

  private SsoSchema(DataSource dataSource) {
    this.inSchema = new InSchema(dataSource);
  }

  public static SsoSchema migrate(DataSource dataSource) {
    org.flywaydb.core.Flyway.configure()
        .dataSource(dataSource)
        .schemas(NAME)
        .createSchemas(true)
        .locations("classpath:db/sso")
        .table("flyway_history")
        .load()
        .migrate();
    return new SsoSchema(dataSource);
  }

  /** The data source with every connection set to schema {@code sso}. */
  public DataSource dataSource() {
    return inSchema;
  }

  private static final class InSchema implements DataSource {
    private final DataSource delegate;

    InSchema(DataSource delegate) {
      this.delegate = delegate;
    }

    private static Connection inSso(Connection c) throws SQLException {
      try {
        c.setSchema(NAME);
        return c;
      } catch (SQLException e) {
        c.close();
        throw e;
      }
    }

    @Override
    public Connection getConnection() throws SQLException {
      return inSso(delegate.getConnection());
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
      return inSso(delegate.getConnection(username, password));
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
      return delegate.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
      delegate.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
      delegate.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
      return delegate.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      return delegate.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
      return delegate.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
      return delegate.isWrapperFor(iface);
    }
  }
}
