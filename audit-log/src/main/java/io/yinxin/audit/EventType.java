package io.yinxin.audit;

/** The kinds of event every module records. */
public enum EventType {
  LOG_STARTED,
  KEY_GENERATED,
  KEY_USED,
  CERT_ISSUED,
  CERT_REVOKED,
  CERT_HOLD_RELEASED,
  CRL_ISSUED,
  DOCUMENT_SEALED,
  /** A seal's key signed hashes for a remote client (Cloud Signature Consortium signHash). */
  HASH_SIGNED,
  TIMESTAMP_ISSUED,
  LOGIN_SUCCEEDED,
  LOGIN_FAILED,
  TOKEN_ISSUED,
  TOKEN_REVOKED,
  /** A person signed out: their sessions and tokens end, relying parties are told. */
  LOGGED_OUT,
  /**
   * Real-name data went to a client (in an ID token or from userinfo): which claims, never their
   * values.
   */
  REALNAME_RELEASED,
  CONFIG_CHANGED
}
