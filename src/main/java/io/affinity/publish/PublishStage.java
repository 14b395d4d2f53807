package io.affinity.publish;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.transform;
import static org.apache.spark.sql.functions.when;

import io.affinity.io.Datasets;
import io.affinity.io.PublishedRuns;
import io.affinity.pipeline.Stage;
import io.affinity.pipeline.StageContext;
import io.affinity.pipeline.StageReport;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Stage {@code publish}: writes {@code audience/run_date=D/} and marks the run published.
 *
 * <p>Audience has one row per user found in any of this date's {@code segments},
 * {@code propensity} or {@code recommendations} (a full outer join on user_id): user_id,
 * segment_id, segment_label, propensity (the calibrated probability), propensity_decile,
 * expected_spend and expected_value (the two-part spend model; null without one), top_items (item ids ordered by rank), top_items_source (the source of the user's first
 * recommendation: als, segment_popular or popular), group ({@code target} or {@code control},
 * {@link ControlGroups}). A user missing from one of the
 * three inputs has nulls in that input's columns; the manifest counts such users. The three inputs
 * hold the same user ids (raw, or the same pseudonyms), so the join needs no id handling here.
 *
 * <p>Only once audience is in place is the run marked published: {@code "published": true} in the
 * manifest and {@code runs/LATEST} moved to the date ({@link PublishedRuns#markPublished}).
 */
public final class PublishStage implements Stage {
  public static final String AUDIENCE = "audience";

  private final ControlGroups.Settings control;
  private final boolean recommendations;

  /**
   * @param control the control-group share and salt ({@code affinity.publish.control})
   * @param recommendations whether stage recommend runs (there is an event log); without it the
   *     audience has no top_items
   */
  public PublishStage(ControlGroups.Settings control, boolean recommendations) {
    this.control = control;
    this.recommendations = recommendations;
  }

  @Override
  public String name() {
    return "publish";
  }

  @Override
  public StageReport run(StageContext ctx) {
    Datasets ds = ctx.datasets();
    Dataset<Row> segments = ds.read("segments", "segment")
        .select(col("user_id"), col("segment_id"), col("segment_label"), lit(true).as("_in_segments"));
    Dataset<Row> scored = ds.read("propensity", "propensity");
    Dataset<Row> propensity = scored
        .select(col("user_id"), col("probability").as("propensity"), col("decile").as("propensity_decile"),
            spend(scored, "expected_spend"), spend(scored, "expected_value"), lit(true).as("_in_propensity"));
    Dataset<Row> top = recommendations ? topItems(ds.read("recommendations", "recommend"))
        : ctx.spark().emptyDataFrame().select(lit(null).cast("string").as("user_id"),
            lit(null).cast("array<string>").as("top_items"), lit(null).cast("string").as("top_items_source"),
            lit(true).as("_in_recommendations"));

    ctx.spark().sparkContext().setJobDescription("publish: audience");
    Dataset<Row> joined = segments.join(propensity, new String[] {"user_id"}, "full_outer")
        .join(top, new String[] {"user_id"}, "full_outer");
    // No run_date column: like every dataset, the date is the partition directory (a data column of
    // the same name would clash with partition discovery in Spark, DuckDB and pyarrow).
    Dataset<Row> audience = joined.select(
        col("user_id"), col("segment_id"), col("segment_label"), col("propensity"), col("propensity_decile"),
        col("expected_spend"), col("expected_value"), col("top_items"), col("top_items_source"));
    StageReport report = new StageReport();
    ctx.spark().sparkContext().setJobDescription("publish: control groups");
    ds.write(ControlGroups.assign(audience, control, report.section("control_groups")), AUDIENCE);

    ctx.spark().sparkContext().setJobDescription("publish: audience counts");
    Row c = joined.agg(count(lit(1)), missing("_in_segments"), missing("_in_propensity"), missing("_in_recommendations"))
        .first();
    Map<String, Object> rows = report.section("rows");
    rows.put(AUDIENCE, ds.read(AUDIENCE, name()).count());
    rows.put("users_without_segment", c.getLong(1));
    rows.put("users_without_propensity", c.getLong(2));
    if (recommendations) {
      rows.put("users_without_recommendations", c.getLong(3));
    }
    report.put("user_ids", ds.userIds());
    report.put("latest", PublishedRuns.markPublished(ds).toString());
    return report;
  }

  /**
   * A spend column of propensity/, or a null double when the output predates the spend model (a
   * propensity output written by an earlier release and republished), so the audience schema stays one.
   */
  private static Column spend(Dataset<Row> propensity, String name) {
    return java.util.Arrays.asList(propensity.columns()).contains(name) ? col(name)
        : lit(null).cast("double").as(name);
  }

  /** Items in rank order per user: sort the (rank, item, source) structs, then keep the item ids. */
  private static Dataset<Row> topItems(Dataset<Row> recommendations) {
    return recommendations
        .groupBy("user_id")
        .agg(sort_array(collect_list(struct(col("rank"), col("item_id"), col("source")))).as("_ranked"))
        .select(col("user_id"),
            transform(col("_ranked"), r -> r.getField("item_id")).as("top_items"),
            col("_ranked").getItem(0).getField("source").as("top_items_source"),
            lit(true).as("_in_recommendations"));
  }

  private static Column missing(String flag) {
    return coalesce(sum(when(col(flag).isNull(), 1L).otherwise(0L)), lit(0L));
  }
}
