package io.yinxin.sign.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The content types {@code /tsa} takes as a time-stamp query (RFC 3161 §3.4; media types are
 * case-insensitive and may carry parameters, RFC 9110 §8.3.1). The servlet itself is judged over
 * HTTP by openssl in the ops module's NodeStartsTest.
 */
class TsaServletTest {

  @Test
  void aTimeStampQueryInAnyCaseWithOrWithoutParametersIsAccepted() {
    assertThat(TsaServlet.isQuery("application/timestamp-query")).isTrue();
    assertThat(TsaServlet.isQuery("Application/TimeStamp-Query")).isTrue();
    assertThat(TsaServlet.isQuery("application/timestamp-query; charset=binary")).isTrue();
    assertThat(TsaServlet.isQuery(" application/timestamp-query ;x=y")).isTrue();
  }

  @Test
  void anythingElseIsNot() {
    assertThat(TsaServlet.isQuery(null)).isFalse();
    assertThat(TsaServlet.isQuery("")).isFalse();
    assertThat(TsaServlet.isQuery("application/timestamp-reply")).isFalse();
    assertThat(TsaServlet.isQuery("application/timestamp-query-x")).isFalse();
    assertThat(TsaServlet.isQuery("application/json")).isFalse();
    assertThat(TsaServlet.isQuery("application/timestamp")).isFalse();
    assertThat(TsaServlet.isQuery("text/plain; x=application/timestamp-query")).isFalse();
  }
}
