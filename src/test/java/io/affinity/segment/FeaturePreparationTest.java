package io.affinity.segment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.config.ConfigLoader;
import io.affinity.config.ConfigReader;
import io.affinity.config.SettingsException;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The input side without Spark jobs: schema checks, the imputation SQL and centroids back in real units. */
class FeaturePreparationTest {
  private static final SegmentSettings SETTINGS = SegmentSettings.from(new ConfigReader(ConfigLoader.load(null, Map.of(
      "affinity.segment.features", "[recency_days, monetary]",
      "affinity.segment.log-features", "[monetary]"))));
  private static final FeaturePreparation PREP = new FeaturePreparation(SETTINGS);

  @Test
  void schemaErrorsNameTheKeyAndTheType() {
    StructType textSpend = new StructType().add("user_id", DataTypes.StringType).add("recency_days", DataTypes.DoubleType)
        .add("monetary", DataTypes.StringType);
    SettingsException e = assertThrows(SettingsException.class, () -> PREP.checkSchema(textSpend, List.of()));
    assertTrue(e.getMessage().contains("affinity.segment.features") && e.getMessage().contains("its type is string"),
        e.getMessage());
    StructType ok = new StructType().add("user_id", DataTypes.StringType).add("recency_days", DataTypes.DoubleType)
        .add("monetary", DataTypes.DoubleType);
    IllegalStateException missing = assertThrows(IllegalStateException.class, () -> PREP.checkSchema(ok, List.of("orders")));
    assertTrue(missing.getMessage().contains("orders"), missing.getMessage());
    PREP.checkSchema(ok, List.of("monetary"));
  }

  @Test
  void imputationAndLogAreOneSqlStatement() {
    String sql = PREP.prepare(List.of(new FeaturePreparation.Imputation("recency_days", "max-plus-one", 76.0, 4),
        new FeaturePreparation.Imputation("monetary", "median", 12.5, 0))).getStatement();
    assertTrue(sql.contains("coalesce(nanvl(CAST(`recency_days` AS DOUBLE), CAST(NULL AS DOUBLE)), 76.0D) AS DOUBLE) AS `seg_in_recency_days`"), sql);
    assertTrue(sql.contains("log1p(greatest(coalesce(nanvl(CAST(`monetary` AS DOUBLE), CAST(NULL AS DOUBLE)), 12.5D), 0.0D))"), sql);
  }

  @Test
  void centroidsGoBackThroughScalerAndLog() {
    double[] real = PREP.realCentroid(new double[] {1.0, -0.5}, new double[] {10.0, 2.0}, new double[] {4.0, 2.0});
    assertArrayEquals(new double[] {14.0, Math.expm1(1.0)}, real, 1e-12);
  }
}
