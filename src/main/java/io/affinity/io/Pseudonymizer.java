package io.affinity.io;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * Replaces raw user ids in published outputs by a keyed hash: the first {@value #HEX_CHARS} hex
 * characters of HMAC-SHA256(key, raw id). The same key gives the same pseudonym in every dataset
 * and every run, so joins between outputs still work; without the key a pseudonym cannot be traced
 * back by hashing candidate ids. The key never leaves this object: {@link #toString} does not show
 * it, and it is not part of the configuration (it comes from an environment variable).
 */
public final class Pseudonymizer implements Serializable {
  private static final long serialVersionUID = 1L;
  /** Characters of the hex digest kept: 128 bits, collisions negligible for any user base. */
  public static final int HEX_CHARS = 32;
  /** No pseudonymization: ids are written as they are. */
  public static final Pseudonymizer OFF = new Pseudonymizer(null, null);

  private final byte[] key;
  private final String source;

  private Pseudonymizer(byte[] key, String source) {
    this.key = key;
    this.source = source;
  }

  /**
   * @param key the secret (UTF-8 bytes are the HMAC key); must not be empty
   * @param source where the key came from, for messages (e.g. the environment variable's name)
   */
  public static Pseudonymizer withKey(String key, String source) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("empty pseudonymization key from " + source);
    }
    return new Pseudonymizer(key.getBytes(StandardCharsets.UTF_8), source);
  }

  public boolean enabled() {
    return key != null;
  }

  /** The pseudonym of one raw id (null stays null). */
  public String pseudonym(String rawId) {
    if (rawId == null || key == null) {
      return rawId;
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(rawId.getBytes(StandardCharsets.UTF_8))).substring(0, HEX_CHARS);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
    }
  }

  /** The column's pseudonyms, or the column itself when pseudonymization is off. */
  public Column apply(Column rawIds) {
    if (key == null) {
      return rawIds;
    }
    Pseudonymizer self = this;
    UDF1<String, String> f = self::pseudonym;
    UserDefinedFunction udf = functions.udf(f, DataTypes.StringType).withName("pseudonym");
    return udf.apply(rawIds);
  }

  /** What the manifest records: the method, never the key. */
  public String describe() {
    return key == null ? "raw" : "hmac-sha256 (first " + HEX_CHARS + " hex chars)";
  }

  @Override
  public String toString() {
    return key == null ? "Pseudonymizer[off]" : "Pseudonymizer[hmac-sha256, key from " + source + "]";
  }
}
