package io.yinxin.audit;

/**
 * Proof of acceptance: the entry's index and its RFC 9162 leaf hash. An auditor later asks for an
 * inclusion proof of exactly this (index, leaf hash) against a signed checkpoint.
 */
public record Receipt(long index, byte[] leafHash) {
  public Receipt {
    leafHash = leafHash.clone();
  }

  @Override
  public byte[] leafHash() {
    return leafHash.clone();
  }
}
