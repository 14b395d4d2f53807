package io.affinity.propensity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.RunSettings;
import io.affinity.config.ConfigLoader;
import io.affinity.config.SettingsException;
import io.affinity.features.UserFeatures;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code affinity.propensity} keys: defaults and the errors an operator sees (exit code 2). */
class PropensitySettingsTest {

  static PropensitySettings read(String... overrides) {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("affinity.input.events.path", "events.csv");
    for (int i = 0; i < overrides.length; i += 2) {
      o.put(overrides[i], overrides[i + 1]);
    }
    return RunSettings.from(ConfigLoader.load(null, o), "2026-11-20").propensity();
  }

  static void rejected(String key, String value, String messagePart) {
    SettingsException e = assertThrows(SettingsException.class, () -> read(key, value));
    assertTrue(e.getMessage().contains(messagePart), e.getMessage());
    assertTrue(e.getMessage().contains("affinity.propensity."), e.getMessage());
  }

  @Test
  void defaults() {
    PropensitySettings s = read();
    assertEquals(30, s.horizonDays());
    assertEquals(UserFeatures.BEHAVIOUR, s.features());
    assertEquals(List.of(), s.attributes());
    assertEquals(0.2, s.validationShare());
    assertEquals(0.2, s.testShare());
    assertEquals(42, s.seed());
    assertTrue(s.balancedClassWeights());
    assertEquals(List.of(0.001, 0.01, 0.1), s.regParams());
    assertEquals(List.of(0.0, 0.5), s.elasticNetParams());
    assertEquals(PropensitySettings.Calibration.PLATT, s.calibration());
    assertEquals(10, s.reliabilityBins());
    assertEquals(0.6, s.minAucRoc());
  }

  @Test
  void overrides() {
    PropensitySettings s = read("affinity.propensity.calibration", "isotonic", "affinity.propensity.grid.reg-param", "[0, 1]",
        "affinity.propensity.features", "[frequency, recency_days]", "affinity.propensity.class-weighting", "none");
    assertEquals(PropensitySettings.Calibration.ISOTONIC, s.calibration());
    assertEquals(List.of(0.0, 1.0), s.regParams());
    assertEquals(List.of("frequency", "recency_days"), s.features());
    assertEquals(false, s.balancedClassWeights());
  }

  @Test
  void invalidValuesNameTheKeyAndTheRange() {
    rejected("affinity.propensity.horizon-days", "0", "1..365");
    rejected("affinity.propensity.features", "[frequency, shoe_size]", "shoe_size");
    rejected("affinity.propensity.features", "[]", "at least one");
    rejected("affinity.propensity.features", "[frequency, frequency]", "twice");
    rejected("affinity.propensity.attributes", "[age]", "affinity.input.users.path");
    rejected("affinity.propensity.test-share", "0.5", "(0.0, 0.5)");
    rejected("affinity.propensity.calibration", "sigmoid", "platt, isotonic");
    rejected("affinity.propensity.class-weighting", "auto", "balanced, none");
    rejected("affinity.propensity.grid.reg-param", "[-1]", "[0.0, 1000000.0]");
    rejected("affinity.propensity.grid.elastic-net", "[0.5, 2]", "[0.0, 1.0]");
    rejected("affinity.propensity.grid.elastic-net", "[]", "at least one");
    rejected("affinity.propensity.gate.min-auc-roc", "1.5", "[0.0, 1.0]");
    SettingsException e = assertThrows(SettingsException.class, () -> read("affinity.propensity.validation-share", "0.35",
        "affinity.propensity.test-share", "0.35"));
    assertTrue(e.getMessage().contains("at most 0.6"), e.getMessage());
    e = assertThrows(SettingsException.class, () -> read("affinity.input.users.path", "users.csv",
        "affinity.propensity.attributes", "[user_idx]"));
    assertTrue(e.getMessage().contains("not ids"), e.getMessage());
  }

  @Test
  void spendModelKeys() {
    PropensitySettings s = read();
    assertEquals(PropensitySettings.Spend.DEFAULT, s.spend());
    assertEquals(List.of(0.0, 0.01, 0.1, 1.0), s.spend().regParams());
    assertEquals(false, read("affinity.propensity.spend.enabled", "false").spend().enabled());
    rejected("affinity.propensity.spend.grid.reg-param", "[]", "at least one");
    // An amount column is for table mode; in event mode spend comes from prices.
    rejected("affinity.propensity.spend.amount-column", "amount", "table mode");

    // Table mode: the amount column is taken as the target of the responders and never an input.
    String[] table = {"affinity.input.users.path", "campaign.csv", "affinity.input.users.numeric", "[age, Amount Spent]",
        "affinity.input.users.categorical", "[y]", "affinity.propensity.label.column", "y",
        "affinity.propensity.label.positive", "[yes]", "affinity.propensity.spend.amount-column", "Amount Spent",
        "affinity.propensity.attributes", "[\"*\"]"};
    PropensitySettings t = read(table);
    assertEquals("amount_spent", t.spend().amountColumn());
    assertTrue(t.exclude().contains("amount_spent"), t.exclude().toString());
    String[] asInput = table.clone();
    asInput[asInput.length - 1] = "[age, Amount Spent]";
    SettingsException e = assertThrows(SettingsException.class, () -> read(asInput));
    assertTrue(e.getMessage().contains("spend amount column"), e.getMessage());
    String[] notNumeric = table.clone();
    notNumeric[3] = "[age]";
    e = assertThrows(SettingsException.class, () -> read(notNumeric));
    assertTrue(e.getMessage().contains("affinity.propensity.spend.amount-column") && e.getMessage().contains("numeric"),
        e.getMessage());
  }
}
