package io.yinxin.sso.account;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which addresses share one budget of failed sign-ins. */
class LoginThrottleTest {

  @Test
  void anIpv6ClientIsCountedByItsSlash64AndAnIpv4ClientByItsAddress() {
    // One subscriber's /64, written as Tomcat reports addresses and as people write them.
    String a = LoginThrottle.sourceKey("2001:db8:1:2:0:0:0:1");
    assertThat(LoginThrottle.sourceKey("2001:db8:1:2:ffff:ffff:ffff:fffe")).isEqualTo(a);
    assertThat(LoginThrottle.sourceKey("2001:0DB8:0001:0002::9")).isEqualTo(a);
    assertThat(a).isEqualTo("source:20010db800010002::/64");
    // The next /64 is someone else.
    assertThat(LoginThrottle.sourceKey("2001:db8:1:3:0:0:0:1")).isNotEqualTo(a);
    // IPv4, and IPv4 written as an IPv4-mapped IPv6 address, are the IPv4 address.
    assertThat(LoginThrottle.sourceKey("192.0.2.7")).isEqualTo("source:192.0.2.7");
    assertThat(LoginThrottle.sourceKey("::ffff:192.0.2.7")).isEqualTo("source:192.0.2.7");
    assertThat(LoginThrottle.sourceKey("192.0.2.8")).isNotEqualTo("source:192.0.2.7");
  }
}
