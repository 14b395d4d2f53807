#!/usr/bin/env bash
# Builds Affinity if needed and runs it in local mode with no Spark installation: the app classes
# plus Spark's jars from the Maven build's classpath, started with the JVM flags Spark 4 needs on
# Java 17. Default: the whole chain on data-samples/ with conf/application.conf, outputs in ./out.
#
#   submit-scripts/run-local.sh                      # all stages, samples, run date from the conf
#   submit-scripts/run-local.sh ingest --run-date 2026-11-21 -Daffinity.output.root=/tmp/aff
#
# Environment: AFFINITY_DRIVER_MEMORY (default 4g) is the heap of the local driver (it is also the
# executors' in local mode). AFFINITY_REBUILD=1 forces a rebuild.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

command -v java >/dev/null || { echo "run-local.sh: java not found (JDK 17 needed)" >&2; exit 2; }
command -v mvn >/dev/null || { echo "run-local.sh: mvn not found (Maven needed)" >&2; exit 2; }

cp_file=target/local-classpath.txt
if [[ "${AFFINITY_REBUILD:-0}" == 1 || ! -f "$cp_file" || ! -d target/classes \
      || -n "$(find src pom.xml -newer "$cp_file" -print -quit)" ]]; then
  echo "run-local.sh: building (mvn package -DskipTests)..." >&2
  mvn -B -q package -DskipTests >&2
fi

# Stage first; default to the whole chain. Then default the config unless one was given.
args=("$@")
if [[ ${#args[@]} -eq 0 || "${args[0]}" == -* && "${args[0]}" != "--help" && "${args[0]}" != "-h" ]]; then
  args=(all "${args[@]}")
fi
has_config=0
for a in "${args[@]}"; do [[ "$a" == --config || "$a" == --config=* ]] && has_config=1; done
[[ $has_config == 1 ]] || args+=(--config conf/application.conf)

source "$here/submit-scripts/spark-jvm-flags.sh"

export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
exec java "-Xmx${AFFINITY_DRIVER_MEMORY:-4g}" "${spark_jvm_flags[@]}" \
  -Dlog4j2.configurationFile="$here/conf/log4j2.properties" \
  -cp "target/classes:$(cat "$cp_file")" io.affinity.Main "${args[@]}"
