package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import javax.sql.DataSource;

/** What the provider keeps of each authorization ({@code sso.oauth2_authorization}). */
final class StoredAuthorizations {
  private StoredAuthorizations() {}

  /**
   * Asserts that no column of any stored authorization holds any of {@code texts}, that no stored
   * ID token is a JWT (whose text would hold its claims in base64), and that there is a row.
   */
  static void holdNone(DataSource dataSource, String... texts) throws Exception {
    try (var c = dataSource.getConnection();
        var rs = c.createStatement().executeQuery("SELECT * FROM sso.oauth2_authorization")) {
      int rows = 0;
      while (rs.next()) {
        rows++;
        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
          Object v = rs.getObject(i);
          if (v instanceof java.sql.Blob blob) {
            v = blob.getBytes(1, (int) blob.length());
          } else if (v instanceof java.sql.Clob clob) {
            v = clob.getSubString(1, (int) clob.length());
          }
          String text =
              v instanceof byte[] bytes
                  ? new String(bytes, StandardCharsets.UTF_8)
                  : String.valueOf(v);
          String column = rs.getMetaData().getColumnName(i);
          for (String t : texts) {
            assertThat(text).as(column).doesNotContain(t);
          }
          if (column.equalsIgnoreCase("oidc_id_token_value") && v != null) {
            assertThat(text).as(column).doesNotStartWith("eyJ");
          }
        }
      }
      assertThat(rows).isPositive();
    }
  }
}
