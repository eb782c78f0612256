package io.yinxin.hsm;

/**
 * Types of data protection key: symmetric keys that encrypt personal data at rest (ID numbers,
 * phone numbers) with authenticated encryption, as GB/T 39786 asks. Like signing keys they are
 * created inside a backend and never leave it.
 */
public enum DataKeySpec {
  /** AES-256 in GCM (NIST SP 800-38D): 96-bit random nonce, 128-bit tag. */
  AES_256_GCM((byte) 1),
  /** SM4 (GB/T 32907) in GCM: 96-bit random nonce, 128-bit tag. Soft backend only. */
  SM4_GCM((byte) 2);

  private final byte id;

  DataKeySpec(byte id) {
    this.id = id;
  }

  /** Its byte in {@link DataCiphertext}'s header. */
  byte id() {
    return id;
  }
}
