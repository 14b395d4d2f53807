package io.affinity.publish;

import io.affinity.config.ConfigReader;
import io.affinity.config.SettingsException;
import io.affinity.io.Pseudonymizer;
import java.util.Map;

/**
 * Settings of the published outputs ({@code affinity.publish}). The pseudonymization key is read
 * from the environment variable named by {@code pseudonymize.key-env} here, before Spark starts, and
 * is held only by the {@link Pseudonymizer} (whose toString does not show it).
 *
 * @param pseudonymizer applied to user ids of the user-keyed outputs; {@link Pseudonymizer#OFF} by default
 * @param control the control (holdout) groups of the audience
 */
public record PublishSettings(Pseudonymizer pseudonymizer, ControlGroups.Settings control) {
  private static final String P = "affinity.publish.pseudonymize.";
  private static final String C = "affinity.publish.control.";

  /**
   * @param env the process environment (System.getenv() outside tests)
   * @throws SettingsException when pseudonymization is on and the variable is unset or empty; the
   *     message names the variable, never a value
   */
  public static PublishSettings from(ConfigReader r, Map<String, String> env) {
    ControlGroups.Settings control = new ControlGroups.Settings(r.number(C + "share", 0, 0.5, false),
        r.nonEmpty(C + "salt"));
    boolean on = r.bool(P + "enabled");
    String var = r.nonEmpty(P + "key-env");
    if (!var.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw new SettingsException(P + "key-env", var, "must be the name of an environment variable ([A-Za-z_][A-Za-z0-9_]*)");
    }
    if (!on) {
      return new PublishSettings(Pseudonymizer.OFF, control);
    }
    String key = env.get(var);
    if (key == null || key.isEmpty()) {
      throw new SettingsException(P + "key-env", var, "pseudonymization is enabled (" + P + "enabled = true) but the "
          + "environment variable " + var + " is " + (key == null ? "not set" : "empty") + "; export the secret key in "
          + var + " (at least 16 characters), or set " + P + "enabled = false");
    }
    if (key.length() < 16) {
      throw new SettingsException(P + "key-env", var, "the key in environment variable " + var + " is too short ("
          + key.length() + " characters); use at least 16 random characters");
    }
    return new PublishSettings(Pseudonymizer.withKey(key, "environment variable " + var), control);
  }
}
