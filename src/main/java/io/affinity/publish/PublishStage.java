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
import io.affinity.io.Manifest;
import io.affinity.io.PublishedRuns;
import io.affinity.pipeline.Pipeline;
import io.affinity.pipeline.Stage;
import io.affinity.pipeline.StageContext;
import io.affinity.pipeline.StageReport;
import io.affinity.propensity.PropensityStage;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
  private final boolean propensity;
  private final FairnessSettings fairness;

  /**
   * @param control the control-group share and salt ({@code affinity.publish.control})
   * @param recommendations whether stage recommend runs (there is an event log); without it the
   *     audience has no top_items
   */
  public PublishStage(ControlGroups.Settings control, boolean recommendations) {
    this(control, recommendations, true, FairnessSettings.OFF);
  }

  /**
   * @param propensity whether stage propensity is in the chain ({@code affinity.stages}); without
   *     it, or when it skipped this date, the propensity columns of the audience are null
   * @param fairness the attributes of the fairness report ({@code affinity.fairness}); none = no report
   */
  public PublishStage(ControlGroups.Settings control, boolean recommendations, boolean propensity,
      FairnessSettings fairness) {
    this.control = control;
    this.recommendations = recommendations;
    this.propensity = propensity;
    this.fairness = fairness;
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
    StageReport report = new StageReport();
    Optional<String> noPropensity = withoutPropensity(ds);
    Dataset<Row> propensity;
    if (noPropensity.isPresent()) {
      report.put("propensity", noPropensity.get());
      propensity = ctx.spark().emptyDataFrame().select(lit(null).cast("string").as("user_id"),
          lit(null).cast("double").as("propensity"), lit(null).cast("int").as("propensity_decile"),
          lit(null).cast("double").as("expected_spend"), lit(null).cast("double").as("expected_value"),
          lit(true).as("_in_propensity"));
    } else {
      Dataset<Row> scored = ds.read("propensity", "propensity");
      propensity = scored
          .select(col("user_id"), col("probability").as("propensity"), col("decile").as("propensity_decile"),
              spend(scored, "expected_spend"), spend(scored, "expected_value"), lit(true).as("_in_propensity"));
    }
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
    ctx.spark().sparkContext().setJobDescription("publish: control groups");
    ds.write(ControlGroups.assign(audience, control, report.section("control_groups")), AUDIENCE);

    ctx.spark().sparkContext().setJobDescription("publish: audience counts");
    Row c = joined.agg(count(lit(1)), missing("_in_segments"), missing("_in_propensity"), missing("_in_recommendations"))
        .first();
    Map<String, Object> rows = report.section("rows");
    rows.put(AUDIENCE, ds.read(AUDIENCE, name()).count());
    rows.put("users_without_segment", c.getLong(1));
    if (noPropensity.isEmpty()) {
      rows.put("users_without_propensity", c.getLong(2));
    }
    if (recommendations) {
      rows.put("users_without_recommendations", c.getLong(3));
    }
    if (fairness.enabled()) {
      ctx.spark().sparkContext().setJobDescription("publish: fairness");
      fairness(ds, noPropensity.isEmpty(), report.section("fairness"));
    }
    report.put("user_ids", ds.userIds());
    report.put("latest", PublishedRuns.markPublished(ds).toString());
    return report;
  }

  /**
   * The fairness report of the audience just written: its rows with raw ids joined to the attributes
   * of features/users, and the propensity test users when propensity published for this date.
   */
  private void fairness(Datasets ds, boolean withPropensity, Map<String, Object> out) {
    Dataset<Row> users = ds.read("features/users", "features");
    for (String a : fairness.attributes()) {
      if (!java.util.Arrays.asList(users.columns()).contains(a)) {
        throw new io.affinity.io.MissingInputException("affinity.fairness.attributes: column " + a + " is not in "
            + "features/users of run_date=" + ds.runDate() + " (columns: " + String.join(", ", users.columns()) + ")");
      }
    }
    List<Column> keep = new java.util.ArrayList<>();
    keep.add(col("user_id"));
    fairness.attributes().forEach(a -> keep.add(col(a)));
    Dataset<Row> attributes = users.select(keep.toArray(new Column[0]));
    Dataset<Row> audience = ds.withRawUserIds(ds.read(AUDIENCE, name()), users.select("user_id"));
    Optional<Dataset<Row>> test = withPropensity ? ds.readIfPresent(PropensityStage.TEST_SCORES) : Optional.empty();
    ds.write(Fairness.compute(audience, attributes, test, fairness, control.share(), out), Fairness.DATASET);
    out.put("rows", ((java.util.List<?>) out.get("groups")).size());
  }

  /**
   * Why the audience has no propensity columns for this date, if it has none: the stage is left out
   * of {@code affinity.stages}, or its manifest entry of this date says it skipped (too little
   * labelled data, or below its baseline). A stage that failed or never ran is not a skip: reading
   * its output then fails and names the stage to run.
   */
  private Optional<String> withoutPropensity(Datasets ds) {
    if (!propensity) {
      return Optional.of("not in affinity.stages: the audience has no propensity columns");
    }
    Map<String, Object> entry = new Manifest(ds).stage("propensity");
    if ("skipped".equals(entry.get("status"))) {
      return Optional.of("skipped for this date, so the audience has no propensity columns: "
          + entry.get(Pipeline.SKIPPED));
    }
    return Optional.empty();
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
