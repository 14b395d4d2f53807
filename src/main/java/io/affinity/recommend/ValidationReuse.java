package io.affinity.recommend;

import io.affinity.config.Settings.EventTypes;
import io.affinity.io.Datasets;
import io.affinity.io.PublishedRuns;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Re-validation every few days ({@code affinity.recommend.revalidate-every-days}): the validation
 * (grid search, baselines, blend weight) is most of the stage's time and its answer changes slowly,
 * so a run may take the last published run's validation instead of making its own, while that
 * validation is less than {@code revalidate-every-days} days old and was made with the same
 * settings. The stage's manifest entry keeps, under {@value #SECTION}, what a later run needs to
 * reuse it: the date it was made on, a fingerprint of the settings, its own selection text, the
 * chosen candidate's metrics and the blend weight. A reused validation says so in its selection and
 * in {@value #SECTION}{@code .reused_from}; a fresh one says why it was not reused.
 */
final class ValidationReuse {
  /** Key of the stage's manifest entry that records the validation. */
  static final String SECTION = "validation";

  private ValidationReuse() {}

  /**
   * A validation that stands in for this run's, or why there is none.
   *
   * @param outcome the reused validation, empty when this run validates
   * @param validatedOn the date the reused validation was made on (null when none)
   * @param from the published run it was taken from (null when none)
   * @param reason why this run validates (null when one is reused)
   */
  record Decision(Optional<Validation.Outcome> outcome, LocalDate validatedOn, LocalDate from, String reason) {
    static Decision validate(String reason) {
      return new Decision(Optional.empty(), null, null, reason);
    }
  }

  /**
   * What the validation depends on, as a short hash: every recommend setting but
   * revalidate-every-days itself (changing how often to validate does not change what a validation
   * measures), the event types and the half-life of implicit strength.
   */
  static String fingerprint(RecommendSettings s, EventTypes types, double halfLifeDays) {
    // The maps sorted: the config's entry order differs from one JVM to the next, and a fingerprint
    // must not (the first measurement found a run and the next night's never matching).
    String text = s.toString().replaceAll("revalidateEveryDays=\\d+", "") + "|" + types.names() + "|"
        + new TreeMap<>(types.aliases()) + "|" + types.purchase() + "|" + types.view() + "|" + types.returned() + "|"
        + new TreeMap<>(types.weights()) + "|" + halfLifeDays;
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  }

  /** The last published run's validation if this run may reuse it, else why it validates. */
  static Decision decide(Datasets ds, RecommendSettings s, String fingerprint) {
    if (s.revalidateEveryDays() <= 1) {
      return Decision.validate("revalidate-every-days = 1: every run validates");
    }
    Optional<PublishedRuns.Previous> last = PublishedRuns.lastBefore(ds, "recommend");
    if (last.isEmpty()) {
      return Decision.validate("no published run before this one to reuse the validation of");
    }
    LocalDate from = last.get().date();
    Map<String, Object> entry = last.get().entry();
    if (!(entry.get(SECTION) instanceof Map<?, ?> raw)) {
      return Decision.validate("the published run of " + from + " recorded no validation to reuse");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> section = (Map<String, Object>) raw;
    if (!fingerprint.equals(section.get("fingerprint"))) {
      return Decision.validate("the recommend settings changed since the validation of the published run of " + from);
    }
    LocalDate validatedOn = LocalDate.parse(String.valueOf(section.get("validated_on")));
    long age = ChronoUnit.DAYS.between(validatedOn, ds.runDate());
    if (age >= s.revalidateEveryDays()) {
      return Decision.validate("the last validation (" + validatedOn + ") is " + age + " days old, revalidate-every-days = "
          + s.revalidateEveryDays());
    }
    if (!(section.get("metrics") instanceof Map<?, ?> metrics) || metrics.isEmpty()) {
      return Decision.validate("the validation of " + validatedOn + " measured nothing (no held-out users)");
    }
    return new Decision(Optional.of(outcome(s, entry, section)), validatedOn, from, null);
  }

  /** The reused validation as the stage uses a fresh one. */
  @SuppressWarnings("unchecked")
  private static Validation.Outcome outcome(RecommendSettings s, Map<String, Object> entry, Map<String, Object> section) {
    Map<String, Object> p = (Map<String, Object>) entry.get("params");
    RecommendSettings.AlsParams chosen = new RecommendSettings.AlsParams(
        ((Number) p.get("rank")).intValue(),
        ((Number) p.get("reg_param")).doubleValue(),
        p.get("alpha") instanceof Number a ? a.doubleValue() : 0.0,
        ((Number) p.get("max_iter")).intValue());
    Map<String, Object> blend = section.get("blend") instanceof Map<?, ?> b ? (Map<String, Object>) b : Map.of();
    Validation.Blend reusedBlend = blend.get("weight") instanceof Number w
        ? new Validation.Blend(w.doubleValue(), String.valueOf(blend.get("selection")),
            blend.get("measured") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of())
        : Validation.chooseBlend(s.content(), null);
    Map<String, Map<String, Object>> baselines = new LinkedHashMap<>();
    if (entry.get("baselines") instanceof Map<?, ?> bs) {
      ((Map<String, Object>) bs).forEach((k, v) -> baselines.put(k, (Map<String, Object>) v));
    }
    Map<String, Object> pol = section.get("published_policy") instanceof Map<?, ?> pp ? (Map<String, Object>) pp : Map.of();
    Object hl = pol.get("half_life_days");
    Validation.Policy policy = new Validation.Policy(
        String.valueOf(pol.getOrDefault("family", Validation.ALS_FAMILY)),
        pol.get("content_slots") instanceof Number n ? n.intValue() : s.content().maxSlots(),
        hl instanceof Number h ? h.doubleValue() : "none".equals(hl) ? Double.POSITIVE_INFINITY
            : s.policy().halfLives().get(s.policy().halfLives().size() - 1),
        pol.get("min_similarity") instanceof Number ms ? ms.doubleValue() : s.content().minSimilarity(),
        entry.get("policy") instanceof Map<?, ?> pr ? (Map<String, Object>) pr : Map.of());
    return new Validation.Outcome(chosen, String.valueOf(section.get("selection")),
        entry.get("split") instanceof Map<?, ?> split ? (Map<String, Object>) split : Map.of(),
        entry.get("candidates") instanceof List<?> c ? (List<Map<String, Object>>) c : List.of(),
        new LinkedHashMap<>((Map<String, Object>) section.get("metrics")), baselines, reusedBlend, Map.of(), policy);
  }

  /** The manifest's {@value #SECTION} entry for the validation this run used. */
  static Map<String, Object> section(Decision d, Validation.Outcome v, LocalDate runDate, String fingerprint) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("validated_on", (d.outcome().isPresent() ? d.validatedOn() : runDate).toString());
    if (d.outcome().isPresent()) {
      m.put("reused_from", d.from().toString());
      m.put("age_days", ChronoUnit.DAYS.between(d.validatedOn(), runDate));
    } else {
      m.put("validated_because", d.reason());
    }
    m.put("fingerprint", fingerprint);
    m.put("selection", v.selection());
    m.put("metrics", v.metrics());
    Map<String, Object> blend = new LinkedHashMap<>();
    blend.put("weight", v.blend().weight());
    blend.put("selection", v.blend().selection());
    blend.put("measured", v.blend().measured());
    m.put("blend", blend);
    // What a reusing run publishes: the same family, slots and decay.
    Map<String, Object> pol = new LinkedHashMap<>();
    pol.put("family", v.policy().family());
    pol.put("content_slots", v.policy().contentSlots());
    pol.put("half_life_days", Double.isInfinite(v.policy().halfLifeDays()) ? "none" : v.policy().halfLifeDays());
    pol.put("min_similarity", v.policy().minSimilarity());
    m.put("published_policy", pol);
    return m;
  }

  /** The selection text of a reused validation: where it comes from, then how it chose. */
  static String reusedSelection(Decision d, Validation.Outcome v) {
    return "reused: the validation of " + d.validatedOn() + " (from the published run of " + d.from() + "): "
        + v.selection();
  }
}
