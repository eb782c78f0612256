package io.yinxin.hsm;

import java.security.PublicKey;

/**
 * A key as a backend holds it.
 *
 * @param ref the key's URI
 * @param spec its type
 * @param publicKey its public half
 */
public record KeyInfo(KeyRef ref, KeySpec spec, PublicKey publicKey) {}
