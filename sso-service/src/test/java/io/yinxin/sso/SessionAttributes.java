package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import javax.sql.DataSource;

/** What the provider keeps in its session rows ({@code sso.spring_session_attributes}). */
final class SessionAttributes {
  private SessionAttributes() {}

  /**
   * Asserts that no stored session attribute holds any of {@code texts} (in its Java serialization,
   * where an ASCII string appears as its bytes), and that there is at least one attribute to look
   * at.
   */
  static void holdNone(DataSource dataSource, String... texts) throws Exception {
    try (var c = dataSource.getConnection();
        var rs =
            c.createStatement()
                .executeQuery(
                    "SELECT attribute_name, attribute_bytes FROM sso.spring_session_attributes")) {
      int attributes = 0;
      while (rs.next()) {
        attributes++;
        String bytes = new String(rs.getBytes(2), StandardCharsets.ISO_8859_1);
        for (String t : texts) {
          assertThat(bytes).as(rs.getString(1)).doesNotContain(t);
        }
      }
      assertThat(attributes).isPositive();
    }
  }
}
