#!/usr/bin/env bash
# Lays out target/spark-dist/spark-<version>/jars (links into the local Maven repository) for each
# Spark version StandaloneClusterIT runs a cluster of. Called by the main build at
# pre-integration-test (exec-maven-plugin); a version already laid out is skipped.
#   fetch.sh <mvn> offline=<true|false> <local repo> <scala binary> <out dir> <version,version,...>
set -euo pipefail
[[ $# -eq 6 ]] || { echo "usage: fetch.sh <mvn> offline=<true|false> <local repo> <scala binary> <out dir> <versions>" >&2; exit 2; }
mvn="$1" offline="$2" repo="$3" scala="$4" out="$5" versions="$6"
pom="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pom.xml"
flags=(-B -q -Dmaven.repo.local="$repo")
[[ "$offline" == offline=true ]] && flags+=(-o)
IFS=, read -r -a list <<< "$versions"
for v in "${list[@]}"; do
  dist="$out/spark-$v"
  [[ -f "$dist/jars/.complete" ]] && continue
  rm -rf "$dist" && mkdir -p "$dist/jars"
  echo "spark-dist: resolving Spark $v (Scala $scala) into $dist/jars"
  "$mvn" "${flags[@]}" -f "$pom" -Dspark.version="$v" -Dscala.binary="$scala" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.outputFile="$dist/classpath.txt" -Dmdep.includeScope=runtime
  IFS=: read -r -a jars <<< "$(cat "$dist/classpath.txt")"
  for j in "${jars[@]}"; do ln -s "$j" "$dist/jars/$(basename "$j")"; done
  grep -q "spark-core_$scala-$v.jar" <<< "${jars[*]}" || { echo "spark-dist: no spark-core $v in $dist" >&2; exit 1; }
  echo "$v" > "$dist/jars/.complete"
done
