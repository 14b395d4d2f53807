package io.affinity;

import io.affinity.config.SettingsException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line contract: {@code affinity <stage> [--run-date YYYY-MM-DD] [--config FILE]
 * [-Dkey=value ...]}. Parsing only; meaning is checked by the config layer.
 *
 * @param stage the stage name, or null with {@code help}
 * @param runDate the --run-date value, or null
 * @param configFile the --config value, or null
 * @param overrides -D pairs in order
 * @param help whether --help was asked
 */
record Cli(String stage, String runDate, String configFile, Map<String, String> overrides, boolean help) {

  static final List<String> STAGES = List.of("ingest", "features", "segment", "propensity", "recommend", "publish", "all");

  static String usage() {
    return String.join("\n",
        "usage: affinity <stage> [--run-date YYYY-MM-DD] [--config FILE] [-Dkey=value ...]",
        "",
        "stages (run in this order by 'all'; each reads the outputs of the ones before it):",
        "  ingest      read and clean the inputs: clean/, quarantine/, idmaps/",
        "  features    user and item features and ALS interactions: features/",
        "  segment     KMeans customer segments with stable ids and labels: segments/, segment_profiles/",
        "  propensity  calibrated probability of a purchase in the next horizon-days: propensity/, models/propensity/",
        "  recommend   ALS top-N per user, similar items, evaluation vs popularity: recommendations/, similar_items/",
        "  publish     one row per user for campaign tools: audience/; marks the run published (runs/LATEST)",
        "  all         every stage above, in one process",
        "",
        "options:",
        "  --run-date YYYY-MM-DD  partition the outputs go to and 'as of' date (default: affinity.run-date, else today UTC)",
        "  --config FILE          HOCON file overriding reference.conf (e.g. conf/application.conf)",
        "  -Dkey=value            override one key, e.g. -Daffinity.output.root=/data/affinity",
        "  --help                 this text",
        "",
        "exit codes: 0 done, 1 failure, 2 usage or configuration error, 3 data-quality gate failed,",
        "            4 model-quality gate failed: a model below its minimum or worse than the last published",
        "              run's beyond affinity.gates.* (nothing of that stage is written; previous outputs stay published)");
  }

  static Cli parse(String[] args) {
    String stage = null;
    String runDate = null;
    String config = null;
    boolean help = false;
    Map<String, String> overrides = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        help = true;
      } else if (a.equals("--run-date") || a.equals("--config")) {
        if (i + 1 >= args.length) {
          throw new SettingsException(a, null, "needs a value");
        }
        if (a.equals("--run-date")) {
          runDate = args[++i];
        } else {
          config = args[++i];
        }
      } else if (a.startsWith("--run-date=")) {
        runDate = a.substring("--run-date=".length());
      } else if (a.startsWith("--config=")) {
        config = a.substring("--config=".length());
      } else if (a.startsWith("-D")) {
        String kv = a.length() == 2 && i + 1 < args.length ? args[++i] : a.substring(2);
        int eq = kv.indexOf('=');
        if (eq <= 0) {
          throw new SettingsException(a, kv, "must be -Dkey=value");
        }
        overrides.put(kv.substring(0, eq).trim(), kv.substring(eq + 1));
      } else if (a.startsWith("-")) {
        throw new SettingsException(null, "unknown option '" + a + "'\n\n" + usage());
      } else if (stage == null) {
        stage = a;
      } else {
        throw new SettingsException(null, "unexpected argument '" + a + "' (stage already given: " + stage + ")");
      }
    }
    if (!help) {
      if (stage == null) {
        throw new SettingsException(null, "no stage given\n\n" + usage());
      }
      if (!STAGES.contains(stage)) {
        throw new SettingsException(null, "unknown stage '" + stage + "'; stages are " + String.join(", ", STAGES));
      }
    }
    return new Cli(stage, runDate, config, overrides, help);
  }
}
