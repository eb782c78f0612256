package io.yinxin.sso.client;

import java.util.Optional;

/**
 * The demo confidential client of the embedded default, registered at first start: its id and, on
 * the node that generated it, its secret (kept only in an owner-only file under the data directory
 * and in dev.json; the database holds its keyed hash).
 */
public record DemoClient(String clientId, Optional<String> secret) {}
