package io.yinxin.sign.tsa;

import io.yinxin.sign.SignException;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Token serial numbers unique across every node sharing the database (RFC 3161 §2.4.2), without a
 * database round trip per token: a node reserves a block of {@link #BLOCK} numbers from the
 * sequence {@code sign.tsa_serial_blocks} and hands them out from memory (the pooled hi/lo scheme).
 * Numbers of a block a node did not use before it stopped are skipped, never reused.
 */
public final class TsaSerials {
  /** Serials per reserved block. */
  public static final long BLOCK = 1000;

  private final DataSource dataSource;
  private final boolean postgres;
  private long next;
  private long end;

  public TsaSerials(DataSource dataSource) {
    this.dataSource = dataSource;
    try (Connection c = dataSource.getConnection()) {
      this.postgres = c.getMetaData().getDatabaseProductName().toLowerCase().contains("postgres");
    } catch (SQLException e) {
      throw new SignException(SignException.Code.UNAVAILABLE, "database unavailable", e);
    }
  }

  /** The next serial number, positive and never handed out before. */
  public synchronized BigInteger next() {
    if (next == end) {
      long block = reserveBlock();
      next = Math.multiplyExact(block, BLOCK);
      end = next + BLOCK;
    }
    return BigInteger.valueOf(next++);
  }

  private long reserveBlock() {
    String sql =
        postgres
            ? "SELECT nextval('sign.tsa_serial_blocks')"
            : "SELECT NEXT VALUE FOR sign.tsa_serial_blocks";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new SignException(
          SignException.Code.UNAVAILABLE, "serial numbers unavailable: " + e.getSQLState(), e);
    }
  }
}
