package io.affinity.testing;

import com.holdenkarau.spark.testing.JavaDataFrameSuiteBase;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * spark-testing-base's DataFrame assertions with one signature for every Spark build. The only
 * version-specific test source (src/test/compat-spark-4 and src/test/compat-spark-3.5, chosen by
 * the pom's {@code compat.source}): spark-testing-base 3.5.0_1.5.2 (Scala 2.12, Spark 3.5): {@code assertDataFrameEquals} gained a
 * third parameter with a Scala default (how to show a mismatch), which Java must pass explicitly.
 * Each fails with an {@link AssertionError} on a mismatch.
 */
public final class DataFrameAssertions {
  private final JavaDataFrameSuiteBase base;

  DataFrameAssertions(JavaDataFrameSuiteBase base) {
    this.base = base;
  }

  /** Same schema, same rows in the same order. */
  public void assertDataFrameEquals(Dataset<Row> expected, Dataset<Row> actual) {
    base.assertDataFrameEquals(expected, actual, base.assertDataFrameEquals$default$3());
  }

  /** Same schema and rows, numbers within {@code tolerance}. */
  public void assertDataFrameApproximateEquals(Dataset<Row> expected, Dataset<Row> actual, double tolerance) {
    base.assertDataFrameApproximateEquals(expected, actual, tolerance);
  }

  /** Same schema and the same rows in any order. */
  public void assertDataFrameNoOrderEquals(Dataset<Row> expected, Dataset<Row> actual) {
    base.assertDataFrameNoOrderEquals(expected, actual);
  }
}
