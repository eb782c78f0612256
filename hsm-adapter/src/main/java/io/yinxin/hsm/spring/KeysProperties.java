package io.yinxin.hsm.spring;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code yinxin.keys.*}: which key backends a node uses. The software backend is on by default
 * (embedded mode); PKCS#11 is on when {@code pkcs11.library} is set, Vault when {@code
 * vault.address} is set. Secrets are never properties: only the name of the environment variable or
 * file that holds them.
 */
@ConfigurationProperties("yinxin.keys")
public record KeysProperties(
    @DefaultValue Soft soft, @DefaultValue Pkcs11 pkcs11, @DefaultValue Vault vault) {

  /**
   * @param enabled use PKCS#12 files (development only)
   * @param directory where; empty means {@code ${yinxin.data-dir}/keys}
   * @param allowInProduction let the {@code prod} profile start with software keys anyway
   */
  public record Soft(
      @DefaultValue("true") boolean enabled,
      @DefaultValue("") String directory,
      @DefaultValue("false") boolean allowInProduction) {}

  /**
   * @param library path of the PKCS#11 module; empty disables the backend
   * @param token label of the token (slots are looked up by label)
   * @param pinEnv environment variable holding the user PIN
   * @param pinFile file holding the user PIN (used when set, instead of pinEnv)
   * @param maxSessions concurrent operations, kept below the token's session limit
   */
  public record Pkcs11(
      @DefaultValue("") String library,
      @DefaultValue("yinxin") String token,
      @DefaultValue("YINXIN_PKCS11_PIN") String pinEnv,
      @DefaultValue("") String pinFile,
      @DefaultValue("16") int maxSessions) {}

  /**
   * @param address Vault's address, e.g. {@code https://vault.example:8200}; empty disables it
   * @param tokenEnv environment variable holding the Vault token
   * @param tokenFile file holding the token (used when set, instead of tokenEnv)
   * @param mount mount path of the Transit engine
   */
  public record Vault(
      @DefaultValue("") String address,
      @DefaultValue("VAULT_TOKEN") String tokenEnv,
      @DefaultValue("") String tokenFile,
      @DefaultValue("transit") String mount) {}
}
