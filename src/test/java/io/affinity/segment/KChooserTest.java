package io.affinity.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.affinity.config.ConfigLoader;
import io.affinity.config.ConfigReader;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The choice of k on hand-made candidates (no Spark: a candidate is its sizes and silhouette). */
class KChooserTest {

  private static KChooser chooser(String... overrides) {
    Map<String, String> o = new HashMap<>();
    for (int i = 0; i < overrides.length; i += 2) {
      o.put(overrides[i], overrides[i + 1]);
    }
    return new KChooser(SegmentSettings.from(new ConfigReader(ConfigLoader.load(null, o))));
  }

  static KMeansFitter.Candidate candidate(int k, double silhouette, long... sizes) {
    return new KMeansFitter.Candidate(k, new KMeansFitter.Fit(null, 100.0 / k, sizes, 10, false, null), silhouette);
  }

  @Test
  void bestSilhouetteWinsAndThePreviousKStaysWhileNearlyAsGood() {
    List<KMeansFitter.Candidate> c = List.of(candidate(3, 0.50, 40, 30, 30), candidate(4, 0.60, 25, 25, 25, 25),
        candidate(5, 0.59, 20, 20, 20, 20, 20));
    Map<String, Object> sel = new HashMap<>();
    assertEquals(4, chooser().choose(c, 0, sel));
    assertEquals(3, ((List<?>) sel.get("candidates")).size());
    assertEquals(5, chooser().choose(c, 5, new HashMap<>()), "0.59 is within 0.02 of 0.60");
    assertEquals(4, chooser().choose(c, 3, new HashMap<>()), "0.50 is not");
  }
}
