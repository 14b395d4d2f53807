#!/usr/bin/env bash
# Generates a deterministic sample data set with io.affinity.sample.SampleGenerator.
# Runs the compiled class from target/classes (plain Java, no Spark needed); compiles nothing itself.
#
#   submit-scripts/generate-data.sh --out data-samples            # the committed sample set
#   submit-scripts/generate-data.sh --out /tmp/bench --users 420000 --items 20000 --ratings 4000000
#
# All arguments are passed through; see --help. Relative --out paths are relative to the caller's
# working directory, so the classpath is made absolute instead of changing directory.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
classes="$root/target/classes"

if [[ ! -f "$classes/io/affinity/sample/SampleGenerator.class" ]]; then
  echo "usage: $0 --out DIR [--users N] [--items N] [--categories N] [--days N] [--end-date yyyy-MM-dd] [--ratings N] [--seed N] [--bad-rows true|false]" >&2
  echo "error: $classes has no compiled generator; run mvn -q compile first" >&2
  exit 2
fi

exec java -cp "$classes" io.affinity.sample.SampleGenerator "$@"
