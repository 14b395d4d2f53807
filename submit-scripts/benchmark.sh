#!/usr/bin/env bash
# The Affinity benchmark (docs/BENCHMARKS.md): generates synthetic data of a chosen size with
# SampleGenerator, runs the whole chain in local mode and the bare-MLlib baseline on the same data with
# the same parameters (conf/benchmark.conf), each in its own JVM, N times, and prints the median
# per-stage table (wall seconds, events/s, peak heap) and the Affinity / baseline ratios as Markdown.
#
#   submit-scripts/benchmark.sh --events 1M [--runs 3] [--driver-memory 8g] [--skip-baseline] [--out DIR]
#
#   --events N        1M, 5M, 20M or a number (k/M suffixes allowed): events to generate (~48 per
#                     user over 90 days; users = N / 48, items = users / 10 with a skewed popularity)
#   --runs N          runs of each side, alternating Affinity and baseline (default 3); medians reported
#   --driver-memory M heap of each child JVM (-Xmx; local mode: driver = executor) (default 8g)
#   --skip-baseline   run Affinity only
#   --out DIR         results (default bench-results/<size>-<UTC timestamp>); one run-N/ folder per run
#   --seed N          generator seed (default 42)
#   --data DIR        where generated data sets are kept and reused (default ${TMPDIR:-/tmp}/affinity-bench-data)
#   --night           also time one steady-state night: the history before the run date as a full
#                     load of the day before (untimed bootstrap, published, keeping the feature
#                     state), then the run date's events alone as a {run_date} delta with
#                     revalidate-every-days = 7 (timed);
#                     results.md gets the night's stages beside the full run's
#
# Environment: AFFINITY_NO_BUILD=1 skips the build (the CI smoke test sets it); AFFINITY_CLASSPATH
# replaces target/local-classpath.txt as the dependency classpath (the smoke test passes its own);
# AFFINITY_JAVA_OPTS adds JVM options to both sides (e.g. a JFR recording).
# Results: DIR/results.md (the tables), results.json, results.csv; each run's manifest and logs.
set -euo pipefail
# The whole script is one block, read before it runs: editing or rebuilding the file during a long
# benchmark cannot change what is running.
{

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "benchmark.sh: $*" >&2; exit 2; }

events_arg="" runs=3 memory=8g skip_baseline=0 night=0 out="" seed=42 data_root="${TMPDIR:-/tmp}/affinity-bench-data"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) [[ $# -ge 2 ]] || die "--events needs a value"; events_arg="$2"; shift 2 ;;
    --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; runs="$2"; shift 2 ;;
    --driver-memory) [[ $# -ge 2 ]] || die "--driver-memory needs a value"; memory="$2"; shift 2 ;;
    --skip-baseline) skip_baseline=1; shift ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a value"; out="$2"; shift 2 ;;
    --seed) [[ $# -ge 2 ]] || die "--seed needs a value"; seed="$2"; shift 2 ;;
    --data) [[ $# -ge 2 ]] || die "--data needs a value"; data_root="$2"; shift 2 ;;
    --night) night=1; shift ;;
    -h|--help) usage ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -n "$events_arg" ]] || die "--events is required (1M, 5M, 20M or a number)"
case "$events_arg" in
  *[kK]) n="${events_arg%[kK]}"; mult=1000 ;;
  *[mM]) n="${events_arg%[mM]}"; mult=1000000 ;;
  *) n="$events_arg"; mult=1 ;;
esac
[[ "$n" =~ ^[0-9]+$ ]] || die "--events must be a whole number with an optional k or M suffix, got '$events_arg'"
events=$(( n * mult ))
(( events >= 5000 && events <= 500000000 )) || die "--events must be in 5k..500M, got $events_arg"
[[ "$runs" =~ ^[0-9]+$ ]] && (( runs >= 1 && runs <= 50 )) || die "--runs must be 1..50, got '$runs'"
[[ "$memory" =~ ^[0-9]+[mMgG]$ ]] || die "--driver-memory must look like 8g or 4096m, got '$memory'"
[[ "$seed" =~ ^[0-9]+$ ]] || die "--seed must be a whole number, got '$seed'"

# Scale: the generator's archetype mix gives ~48 events per user over 90 days; a catalog a tenth of
# the users (popularity is skewed inside it: a few items take most of the events).
users=$(( events / 48 )); (( users >= 20 )) || users=20
items=$(( users / 10 )); (( items >= 50 )) || items=50
# Shuffle partitions sized to the data, the same on both sides: 2 to 8 below 1M events (~125k each),
# the configured 8 up to 8M, then one per million events (20 at 20M). One per 125k events at 20M gave
# 160 clean/events files of 2.6 MB each (a cached dataset's partitions are not coalesced by AQE).
partitions=$(( events / 125000 )); (( partitions >= 2 )) || partitions=2; (( partitions <= 8 )) || partitions=8
(( events / 1000000 <= partitions )) || partitions=$(( events / 1000000 ))

cd "$here"
command -v java >/dev/null || die "java not found (JDK 17 needed)"
if [[ "${AFFINITY_NO_BUILD:-0}" != 1 ]]; then
  echo "benchmark.sh: building (mvn package -DskipTests)..." >&2
  mvn -B -q package -DskipTests >&2
fi
cp_file=target/local-classpath.txt
if [[ -n "${AFFINITY_CLASSPATH:-}" ]]; then
  deps="$AFFINITY_CLASSPATH"
else
  [[ -f "$cp_file" ]] || die "no $cp_file (written by mvn package): run mvn package -DskipTests"
  deps="$(cat "$cp_file")"
fi
[[ -d target/classes && -d target/test-classes ]] \
  || die "no build in target/ (needs target/classes and target/test-classes): run mvn package -DskipTests"
source "$here/submit-scripts/lib/spark-jvm-flags.sh"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
# shellcheck disable=SC2206
extra_opts=(${AFFINITY_JAVA_OPTS:-})

data="$data_root/events-$events-seed-$seed"
if [[ ! -f "$data/_COMPLETE" ]]; then
  echo "benchmark.sh: generating $events_arg events ($users users, $items items) into $data" >&2
  rm -rf "$data.tmp"
  java -cp "$here/target/classes" io.affinity.sample.SampleGenerator --out "$data.tmp" --users "$users" --items "$items" \
    --ratings 0 --seed "$seed" >&2
  rm -rf "$data" && mv "$data.tmp" "$data" && touch "$data/_COMPLETE"
else
  echo "benchmark.sh: reusing $data" >&2
fi
data="$(cd "$data" && pwd)"

label="$events_arg"
[[ -n "$out" ]] || out="bench-results/$label-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# A snapshot of the build, so that a rebuild while the benchmark runs cannot pull classes from under it.
rm -rf "$out/build" && mkdir -p "$out/build" && cp -r target/classes target/test-classes "$out/build/"
classpath="$out/build/test-classes:$out/build/classes:$deps"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "command: $0 --events $events_arg --runs $runs --driver-memory $memory$([[ $skip_baseline == 1 ]] && echo ' --skip-baseline')$([[ $night == 1 ]] && echo ' --night')"
  echo "data: $data ($users users, $items items, seed $seed); shuffle partitions $partitions"
  echo "nproc: $(nproc)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"
cat "$out/machine.txt" >&2

inputs=(--config conf/benchmark.conf
  "-Daffinity.input.events.path=$data/events.csv"
  "-Daffinity.input.users.path=$data/users.csv"
  "-Daffinity.input.items.path=$data/items.csv"
  "-Daffinity.spark.shuffle-partitions=$partitions")
jvm() { java "-Xmx$memory" "${SPARK_JVM_FLAGS[@]}" "${extra_opts[@]}" \
  -Dlog4j2.configurationFile="$here/conf/log4j2.properties" -cp "$classpath" "$@"; }

for (( r = 1; r <= runs; r++ )); do
  run="$out/run-$r"
  rm -rf "$run" && mkdir -p "$run"
  echo "benchmark.sh: run $r/$runs: affinity all (log: $run/affinity.log)" >&2
  start=$(date +%s.%N)
  if ! jvm io.affinity.Main all "${inputs[@]}" "-Daffinity.output.root=$run/affinity" > "$run/affinity.log" 2>&1; then
    tail -20 "$run/affinity.log" >&2
    die "run $r: the Affinity chain failed (log: $run/affinity.log)"
  fi
  echo "  $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }") s wall (JVM start to exit)" >&2
  if [[ $skip_baseline == 0 ]]; then
    echo "benchmark.sh: run $r/$runs: bare baseline (log: $run/baseline.log)" >&2
    mkdir -p "$run/baseline"
    start=$(date +%s.%N)
    if ! jvm io.affinity.bench.BareBaseline "${inputs[@]}" "-Daffinity.output.root=$run/baseline" \
        --out "$run/baseline" > "$run/baseline.log" 2>&1; then
      tail -20 "$run/baseline.log" >&2
      die "run $r: the baseline failed (log: $run/baseline.log)"
    fi
    echo "  $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }") s wall (JVM start to exit)" >&2
  fi
  # Outputs are not needed for the figures; keep the manifest, drop the data (20M runs are large).
  find "$run/affinity" "$run/baseline" -mindepth 1 -maxdepth 1 ! -name runs ! -name baseline.json -exec rm -rf {} + 2>/dev/null || true
done
if [[ $night == 1 ]]; then
  # The run date of conf/benchmark.conf, and the day before it (the bootstrap's run date).
  run_date="$(sed -n 's/^ *run-date *= *"\([0-9-]*\)".*/\1/p' conf/benchmark.conf | head -1)"
  [[ -n "$run_date" ]] || die "no run-date in conf/benchmark.conf"
  day_before="$(date -u -d "$run_date - 1 day" +%F)"
  # The export split once per data set: the run date's rows (timestamp "D hh:mm:ss") as that day's
  # file, every other row (bad rows included) as the history.
  split="$data/night-$run_date"
  if [[ ! -f "$split/_COMPLETE" ]]; then
    rm -rf "$split.tmp" && mkdir -p "$split.tmp/daily/dt=$run_date"
    awk -v day=",$run_date " -v h="$split.tmp/history.csv" -v d="$split.tmp/daily/dt=$run_date/events.csv" \
      'NR == 1 { print > h; print > d; next } index($0, day) { print > d; next } { print > h }' "$data/events.csv"
    rm -rf "$split" && mv "$split.tmp" "$split" && touch "$split/_COMPLETE"
  fi
  night_root="$out/night/affinity"
  rm -rf "$out/night" && mkdir -p "$out/night"
  echo "benchmark.sh: night: bootstrap, a full load of the history for $day_before (untimed; log: $out/night/bootstrap.log)" >&2
  # state.mode=on: the bootstrap keeps the feature state (a path without {run_date} keeps none by
  # default), so that the timed night folds its delta into it, as every night after the first does.
  if ! jvm io.affinity.Main all "${inputs[@]}" "-Daffinity.input.events.path=$split/history.csv" \
      -Daffinity.features.state.mode=on \
      --run-date "$day_before" "-Daffinity.output.root=$night_root" > "$out/night/bootstrap.log" 2>&1; then
    tail -20 "$out/night/bootstrap.log" >&2
    die "night: the bootstrap failed (log: $out/night/bootstrap.log)"
  fi
  echo "benchmark.sh: night: $run_date from its delta alone (log: $out/night/night.log)" >&2
  start=$(date +%s.%N)
  if ! jvm io.affinity.Main all "${inputs[@]}" "-Daffinity.input.events.path=$split/daily/dt={run_date}/events.csv" \
      -Daffinity.recommend.revalidate-every-days=7 --run-date "$run_date" "-Daffinity.output.root=$night_root" \
      > "$out/night/night.log" 2>&1; then
    tail -20 "$out/night/night.log" >&2
    die "night: the nightly run failed (log: $out/night/night.log)"
  fi
  echo "  $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }") s wall (JVM start to exit)" >&2
  find "$night_root" -mindepth 1 -maxdepth 1 ! -name runs -exec rm -rf {} + 2>/dev/null || true
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"

java -cp "$classpath" io.affinity.bench.BenchmarkReport "$out" "$label"
echo >&2
echo "benchmark.sh: results in $out (results.md, results.json, results.csv, machine.txt)" >&2
exit
}
