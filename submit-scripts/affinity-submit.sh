#!/usr/bin/env bash
# Submits Affinity to Spark: local, standalone (spark://), YARN or Kubernetes (k8s://). The same
# script Airflow, cron and the cluster integration test use. It checks that the app jar and the
# config file exist, ships the config file to the driver and executors, echoes the final command
# and runs it (or only prints it with --dry-run).
#
#   submit-scripts/affinity-submit.sh --master yarn --deploy-mode cluster --conf-file conf/prod.conf \
#       -- all --run-date 2026-11-20
#
# spark-submit comes from $SPARK_HOME/bin/spark-submit. Without SPARK_HOME (a machine with no Spark
# install) SparkSubmit is started with java from the jars in --spark-jars DIR, else from the Maven
# build's classpath (target/local-classpath.txt, made by `mvn package`), which is enough for local[*]
# and spark://.
# Exit codes: those of Affinity (0 done, 1 failed, 2 usage/config, 3 data quality, 4 model quality);
# this script itself exits 2 on a usage error or a missing jar, config or spark-submit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prog="affinity-submit.sh"

usage() {
  cat <<EOF
Usage: $prog [options] [--] <stage> [--run-date YYYY-MM-DD] [-Dkey=value ...]

Options (all optional):
  --master URL            local[*] (default), local[N], spark://host:port, yarn, k8s://https://host:port
  --deploy-mode MODE      client (default) or cluster (driver runs on the cluster; not for local)
  --driver-memory SIZE    e.g. 4g (default: Spark's 1g; 2g without SPARK_HOME, where it is the java heap)
  --driver-cores N        cluster deploy mode only
  --executor-memory SIZE  e.g. 8g
  --executor-cores N
  --num-executors N       YARN and Kubernetes (spark.executor.instances)
  --total-executor-cores N  standalone: cores for the whole application
  --jar PATH              app jar (default: target/affinity-*.jar; on k8s a local:// path in the image)
  --spark-jars DIR        without SPARK_HOME: start SparkSubmit from the Spark jars in DIR (a Spark
                          release's jars/ folder) instead of target/local-classpath.txt
  --conf-file PATH        Affinity HOCON config, shipped with --files (default: none, reference.conf only)
  --spark-conf K=V        extra spark-submit --conf, repeatable (e.g. spark.kubernetes.container.image=...)
  --name NAME             application name (default: affinity-<stage>-<run date>)
  --dry-run               print the command, do not run it
  -h, --help              this text

Which jar for which Spark (the cluster's Spark version decides; pass it with --jar):
  Spark 4.0.x, 4.1.x, 4.2.x  Scala 2.13 (EMR 8.0, EMR Serverless 8.0)
      target/affinity-<version>.jar                  mvn -B package -DskipTests
      compiled against Spark 4.0.1; StandaloneClusterIT runs it on 4.0.1, 4.1.0 and 4.2.0
  Spark 3.5.x                Scala 2.12 (EMR 7.x, Dataproc 2.2, Databricks 15 and 16 LTS)
      target/spark3.5/affinity-<version>-spark3.5.jar  mvn -B -P spark-3.5 package -DskipTests
      compiled against Spark 3.5.9; StandaloneClusterIT runs it on 3.5.9
  Scala 2.12 and 2.13 are not binary compatible: use the jar built for the cluster's Scala.

Stage and arguments go to Affinity: ingest | features | segment | propensity | recommend | all
(see the Affinity usage: affinity --help), e.g.  all --run-date 2026-11-20 -Daffinity.output.root=hdfs:///affinity

Config shipping: the file is passed with --files. In client mode the driver reads it from its local
path; in YARN/Kubernetes cluster mode Spark puts it in the driver's working directory, so Affinity
gets --config <file name>; in standalone cluster mode jar and config must be on a path every worker
sees. On Kubernetes --files needs a URI the driver pod can fetch (https://, s3a://, hdfs://, or
local:// baked into the image) unless spark.kubernetes.file.upload.path is set.
EOF
}

die() { echo "$prog: $*" >&2; echo "Run $prog --help for usage." >&2; exit 2; }

master="local[*]"
deploy_mode="client"
driver_memory=""
driver_cores=""
executor_memory=""
executor_cores=""
num_executors=""
total_executor_cores=""
jar=""
spark_jars=""
conf_file=""
name=""
dry_run=0
spark_confs=()
app_args=()

need() { [[ $# -ge 2 && -n "$2" ]] || die "option $1 needs a value"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --master) need "$@"; master="$2"; shift 2 ;;
    --deploy-mode) need "$@"; deploy_mode="$2"; shift 2 ;;
    --driver-memory) need "$@"; driver_memory="$2"; shift 2 ;;
    --driver-cores) need "$@"; driver_cores="$2"; shift 2 ;;
    --executor-memory) need "$@"; executor_memory="$2"; shift 2 ;;
    --executor-cores) need "$@"; executor_cores="$2"; shift 2 ;;
    --num-executors) need "$@"; num_executors="$2"; shift 2 ;;
    --total-executor-cores) need "$@"; total_executor_cores="$2"; shift 2 ;;
    --jar) need "$@"; jar="$2"; shift 2 ;;
    --spark-jars) need "$@"; spark_jars="$2"; shift 2 ;;
    --conf-file) need "$@"; conf_file="$2"; shift 2 ;;
    --spark-conf) need "$@"; [[ "$2" == *=* ]] || die "--spark-conf needs key=value, got '$2'"
                  spark_confs+=("$2"); shift 2 ;;
    --name) need "$@"; name="$2"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --) shift; app_args+=("$@"); break ;;
    --config|--config=*) die "use --conf-file for the Affinity config (the script ships it and passes --config itself)" ;;
    -*) die "unknown option '$1'" ;;
    *) app_args+=("$@"); break ;;
  esac
done

[[ ${#app_args[@]} -gt 0 ]] || die "missing the stage (ingest, features, segment, propensity, recommend or all)"
for a in "${app_args[@]}"; do
  [[ "$a" == --config || "$a" == --config=* ]] \
    && die "use --conf-file for the Affinity config (the script ships it and passes --config itself)"
done

case "$master" in
  local|local\[*\]) kind=local ;;
  spark://*) kind=standalone ;;
  yarn) kind=yarn ;;
  k8s://*) kind=k8s ;;
  *) die "--master must be local[*], local[N], spark://host:port, yarn or k8s://https://host:port; got '$master'" ;;
esac
case "$deploy_mode" in
  client|cluster) ;;
  *) die "--deploy-mode must be client or cluster; got '$deploy_mode'" ;;
esac
[[ $kind == local && $deploy_mode == cluster ]] && die "--deploy-mode cluster needs a cluster master, not '$master'"
for v in driver_cores executor_cores num_executors total_executor_cores; do
  val="${!v}"
  [[ -z "$val" || "$val" =~ ^[1-9][0-9]*$ ]] || die "--${v//_/-} must be a positive whole number; got '$val'"
done
for v in driver_memory executor_memory; do
  val="${!v}"
  [[ -z "$val" || "$val" =~ ^[1-9][0-9]*[kKmMgGtT]?$ ]] || die "--${v//_/-} must be a size like 512m or 4g; got '$val'"
done

# The jar: default to the one `mvn package` builds. A local:// jar (inside a k8s image) is not checked.
if [[ -z "$jar" ]]; then
  shopt -s nullglob
  jars=("$here"/target/affinity-*.jar)
  shopt -u nullglob
  [[ ${#jars[@]} -gt 0 ]] || die "no app jar in $here/target (build it: mvn -B package -DskipTests), or pass --jar"
  [[ ${#jars[@]} -eq 1 ]] || die "several jars match target/affinity-*.jar (${jars[*]}); pass --jar"
  jar="${jars[0]}"
fi
if [[ "$jar" != *://* ]]; then
  [[ -f "$jar" ]] || die "app jar not found: $jar"
  jar="$(cd "$(dirname "$jar")" && pwd)/$(basename "$jar")"
fi

# The config: shipped with --files (executors get it too). Client mode: the driver runs here and
# reads the local path. YARN and Kubernetes cluster mode: Spark puts --files into the driver's
# working directory, so Affinity reads the bare file name. Standalone cluster mode does not do that
# for the driver: jar and config must sit on a path every worker sees (shared filesystem), and the
# driver reads that path. A remote URI (hdfs://, s3a://, https://, local://) is not checked here.
config_arg=""
if [[ -n "$conf_file" ]]; then
  if [[ "$conf_file" != *://* ]]; then
    [[ -f "$conf_file" ]] || die "config file not found: $conf_file"
    conf_file="$(cd "$(dirname "$conf_file")" && pwd)/$(basename "$conf_file")"
    [[ $kind == k8s && $deploy_mode == cluster ]] && ! printf '%s\n' "${spark_confs[@]+"${spark_confs[@]}"}" \
      | grep -q '^spark.kubernetes.file.upload.path=' \
      && die "on Kubernetes in cluster mode a local --conf-file needs --spark-conf spark.kubernetes.file.upload.path=<s3a:// or hdfs:// dir>, or a remote URI"
  fi
  if [[ $deploy_mode == cluster && $kind != standalone ]]; then
    config_arg="$(basename "$conf_file")"
  elif [[ $deploy_mode == cluster ]]; then
    config_arg="$conf_file"
  elif [[ "$conf_file" == *://* ]]; then
    die "in client mode the driver reads the config directly: pass a local path, not '$conf_file'"
  else
    config_arg="$conf_file"
  fi
fi

if [[ -z "$name" ]]; then
  name="affinity-${app_args[0]}"
  for ((i = 1; i < ${#app_args[@]}; i++)); do
    [[ "${app_args[$i]}" == --run-date && $((i + 1)) -lt ${#app_args[@]} ]] && name+="-${app_args[$((i + 1))]}"
    [[ "${app_args[$i]}" == --run-date=* ]] && name+="-${app_args[$i]#--run-date=}"
  done
fi

# spark-submit: the installed one, else SparkSubmit from the build classpath (spark-core has it).
if [[ -n "${SPARK_HOME:-}" ]]; then
  [[ -x "$SPARK_HOME/bin/spark-submit" ]] || die "SPARK_HOME=$SPARK_HOME has no bin/spark-submit"
  submit=("$SPARK_HOME/bin/spark-submit")
else
  [[ $kind == local || $kind == standalone ]] \
    || die "--master $master needs a Spark installation: set SPARK_HOME (Hadoop/Kubernetes client config lives there)"
  if [[ -n "$spark_jars" ]]; then
    compgen -G "$spark_jars/spark-core_*.jar" >/dev/null || die "--spark-jars $spark_jars holds no spark-core_*.jar"
    spark_cp="$(cd "$spark_jars" && pwd)/*"
  else
    cp_file="$here/target/local-classpath.txt"
    [[ -f "$cp_file" ]] || die "no SPARK_HOME and no $cp_file (build it: mvn -B package -DskipTests)"
    spark_cp="$(cat "$cp_file")"
  fi
  command -v java >/dev/null || die "java not found (JDK 17 needed)"
  # spark-submit adds the Java 17 flags itself; a bare java launch must pass them.
  source "$here/submit-scripts/lib/spark-jvm-flags.sh"
  submit=(java "-Xmx${driver_memory:-2g}"
    "${SPARK_JVM_FLAGS[@]}"
    -Dlog4j2.configurationFile="$here/conf/log4j2.properties"
    -cp "$spark_cp" org.apache.spark.deploy.SparkSubmit)
fi

cmd=("${submit[@]}" --master "$master" --deploy-mode "$deploy_mode" --class io.affinity.Main --name "$name")
[[ -n "$driver_memory" ]] && cmd+=(--driver-memory "$driver_memory")
[[ -n "$driver_cores" ]] && cmd+=(--driver-cores "$driver_cores")
[[ -n "$executor_memory" ]] && cmd+=(--executor-memory "$executor_memory")
[[ -n "$executor_cores" ]] && cmd+=(--executor-cores "$executor_cores")
[[ -n "$num_executors" ]] && cmd+=(--num-executors "$num_executors")
[[ -n "$total_executor_cores" ]] && cmd+=(--total-executor-cores "$total_executor_cores")
[[ -n "$conf_file" ]] && cmd+=(--files "$conf_file")
for c in "${spark_confs[@]+"${spark_confs[@]}"}"; do cmd+=(--conf "$c"); done
cmd+=("$jar" "${app_args[@]}")
[[ -n "$config_arg" ]] && cmd+=(--config "$config_arg")

# Echo the exact command, shell-quoted (--dry-run: on stdout, and nothing else happens).
if [[ $dry_run == 1 ]]; then
  printf '%q ' "${cmd[@]}"; echo
  exit 0
fi
{ printf '%s: ' "$prog"; printf '%q ' "${cmd[@]}"; echo; } >&2
# Local mode binds to loopback unless told otherwise (no surprise listening on the LAN).
[[ $kind == local ]] && export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
exec "${cmd[@]}"
