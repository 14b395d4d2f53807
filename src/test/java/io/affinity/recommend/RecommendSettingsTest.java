package io.affinity.recommend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.RunSettings;
import io.affinity.config.ConfigLoader;
import io.affinity.config.Settings;
import io.affinity.config.SettingsException;
import io.affinity.recommend.RecommendSettings.AlsParams;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Defaults of affinity.recommend and the errors that name the key, the value and what is allowed. */
class RecommendSettingsTest {

  @Test
  void defaultsAreImplicitTopTenWithAnEightCandidateGrid() {
    RecommendSettings s = settings();
    assertTrue(s.implicit());
    assertEquals(10, s.topN());
    assertEquals(10, s.k());
    assertEquals(List.of("purchase"), s.excludeEventTypes());
    assertEquals(8, s.grid().size());
    assertEquals(new AlsParams(10, 0.01, 1.0, 10), s.grid().get(0));
    assertEquals(new AlsParams(10, 0.1, 10.0, 10), s.params());
  }

  @Test
  void explicitModeDropsAlphaFromTheGrid() {
    RecommendSettings s = settings("affinity.recommend.mode", "explicit", "affinity.input.ratings.path", "r.dat");
    assertEquals(4, s.grid().size());
    assertTrue(s.grid().stream().allMatch(p -> p.alpha() == 0.0));
  }

  @Test
  void exclusionsAndRelevanceFollowTheConfiguredPurchaseType() {
    RecommendSettings s = settings("affinity.event-types.names", "[watch]", "affinity.event-types.purchase", "watch",
        "affinity.event-types.view", "watch", "affinity.event-types.weights", "{ watch = 1.0 }");
    assertEquals(List.of("watch"), s.excludeEventTypes());
    assertEquals(List.of("watch"), s.relevantEventTypes());
  }

  /** auto sizes the ALS blocks to the training pairs: one per 500,000, at least 2; a number is kept. */
  @Test
  void alsBlocksAreSizedToTheTrainingPairsUnlessANumberIsSet() {
    RecommendSettings auto = settings();
    assertEquals(RecommendSettings.AUTO_BLOCKS, auto.numBlocks());
    assertEquals(2, auto.blocksFor(0));
    assertEquals(2, auto.blocksFor(16_000));
    assertEquals(2, auto.blocksFor(1_000_000));
    assertEquals(3, auto.blocksFor(1_000_001));
    assertEquals(10, auto.blocksFor(5_000_000));
    assertEquals(10_000, auto.blocksFor(Long.MAX_VALUE / 2));
    assertEquals(8, auto.inputPartitions(8));
    RecommendSettings fixed = settings("affinity.recommend.num-blocks", "7");
    assertEquals(7, fixed.blocksFor(16_000));
    assertEquals(7, fixed.blocksFor(50_000_000));
    assertEquals(7, fixed.inputPartitions(8));
    assertError("affinity.recommend.num-blocks", "auto or a whole number in 1..10000", "affinity.recommend.num-blocks", "0");
    assertError("affinity.recommend.num-blocks", "auto or a whole number in 1..10000", "affinity.recommend.num-blocks", "many");
  }

  /** A validation is reused only under the same settings; how often to validate is not one of them. */
  @Test
  void validationFingerprintIgnoresOnlyHowOftenToValidate() {
    RunSettings base = full();
    String fp = ValidationReuse.fingerprint(base.recommend(), base.eventTypes(), base.features().halfLifeDays());
    assertEquals(16, fp.length());
    RunSettings weekly = full("affinity.recommend.revalidate-every-days", "7");
    assertEquals(7, weekly.recommend().revalidateEveryDays());
    assertEquals(fp, ValidationReuse.fingerprint(weekly.recommend(), weekly.eventTypes(), weekly.features().halfLifeDays()));
    for (String[] change : new String[][] {{"affinity.recommend.grid.rank", "[10]"},
        {"affinity.recommend.validation-days", "7"}, {"affinity.recommend.content.enabled", "false"}}) {
      RunSettings other = full(change);
      assertNotEquals(fp, ValidationReuse.fingerprint(other.recommend(), other.eventTypes(), other.features().halfLifeDays()),
          change[0]);
    }
    // The config's map order differs from JVM to JVM; the fingerprint must not.
    Settings.EventTypes t = base.eventTypes();
    java.util.Map<String, Double> reversed = new java.util.LinkedHashMap<>();
    java.util.List<String> keys = new java.util.ArrayList<>(t.weights().keySet());
    java.util.Collections.reverse(keys);
    keys.forEach(k -> reversed.put(k, t.weights().get(k)));
    assertEquals(fp, ValidationReuse.fingerprint(base.recommend(), new Settings.EventTypes(t.names(), t.aliases(),
        t.purchase(), t.view(), t.returned(), reversed), base.features().halfLifeDays()));
    RunSettings halfLife = full("affinity.features.half-life-days", "7");
    assertNotEquals(fp, ValidationReuse.fingerprint(halfLife.recommend(), halfLife.eventTypes(), 7.0));
  }

  @Test
  void invalidValuesNameTheKey() {
    assertError("affinity.recommend.mode", "needs explicit ratings", "affinity.recommend.mode", "explicit");
    assertError("affinity.recommend.selection-metric", "needs mode = explicit",
        "affinity.recommend.selection-metric", "rmse");
    assertError("affinity.recommend.exclude-event-types", "\"wishlist\"",
        "affinity.recommend.exclude-event-types", "[purchase, wishlist]");
    assertError("affinity.recommend.relevant-event-types", "at least one", "affinity.recommend.relevant-event-types", "[]");
    assertError("affinity.recommend.grid.rank", "1..1000", "affinity.recommend.grid.rank", "[10, 0]");
    assertError("affinity.recommend.grid.reg-param", "numbers", "affinity.recommend.grid.reg-param", "[a]");
    assertError("affinity.recommend.top-n", "1..1000", "affinity.recommend.top-n", "0");
    assertError("affinity.recommend.search", "grid, fixed", "affinity.recommend.search", "random");
  }

  @Test
  void blendWeightIsTheBestHitRateOfTheGridTiesToTheNearestFixedWeightThenTheLower() {
    RecommendSettings.ContentSettings c = settings().content();
    assertTrue(c.tuneBlendWeight());
    assertEquals(List.of(0.0, 0.25, 0.5, 0.75, 1.0), c.blendWeightGrid());
    // 0.25 and 0.75 tie for the best rate and are equally near blend-weight 0.5: the lower wins.
    assertEquals(0.25, Validation.chooseBlend(c, measured(40, 0.1, 0.3, 0.2, 0.3, 0.1)).weight());
    // 0.5 ties with 1.0 and is the configured weight itself.
    assertEquals(0.5, Validation.chooseBlend(c, measured(40, 0.1, 0.2, 0.3, 0.2, 0.3)).weight());
    assertEquals(1.0, Validation.chooseBlend(c, measured(40, 0.1, 0.2, 0.3, 0.2, 0.35)).weight());
    // Nothing to measure on, or tuning off: the configured weight, and why.
    Validation.Blend none = Validation.chooseBlend(c, measured(0, 0, 0, 0, 0, 0));
    assertEquals(0.5, none.weight());
    assertTrue(none.selection().startsWith("fixed"), none.selection());
    RecommendSettings.ContentSettings fixed = settings("affinity.recommend.content.blend-weight-search", "fixed",
        "affinity.recommend.content.blend-weight", "0.8").content();
    assertEquals(0.8, Validation.chooseBlend(fixed, measured(40, 0.9, 0, 0, 0, 0)).weight());
    assertError("affinity.recommend.content.blend-weight-grid", "[0.0, 1.0]",
        "affinity.recommend.content.blend-weight-grid", "[0.5, 1.5]");
  }

  /** A candidate's blend_weights entry: users and the hit rate of each default grid weight. */
  private static Map<String, Object> measured(long users, double... rates) {
    Map<String, Object> hit = new LinkedHashMap<>();
    double[] grid = {0.0, 0.25, 0.5, 0.75, 1.0};
    for (int i = 0; i < grid.length; i++) {
      hit.put(Validation.weightKey(grid[i]), rates[i]);
    }
    return Map.of("users", users, "hit_rate", hit);
  }

  private static void assertError(String key, String fragment, String... overrides) {
    SettingsException e = assertThrows(SettingsException.class, () -> settings(overrides));
    assertEquals(key, e.key(), e.getMessage());
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
  }

  private static RecommendSettings settings(String... overrides) {
    return full(overrides).recommend();
  }

  private static RunSettings full(String... overrides) {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("affinity.input.events.path", "events.csv");
    for (int i = 0; i < overrides.length; i += 2) {
      o.put(overrides[i], overrides[i + 1]);
    }
    return RunSettings.from(ConfigLoader.load(null, o), "2026-11-20");
  }
}
