package io.yinxin.sso.account;

import java.util.Optional;

/** The embedded default's demo account: its username and, where it was generated, its password. */
public record DemoUser(String username, Optional<String> password) {}
