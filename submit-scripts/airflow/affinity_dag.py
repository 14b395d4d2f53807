"""Affinity nightly: one Airflow task per pipeline stage, in order, for the DAG run's date.

Each task runs ``submit-scripts/affinity-submit.sh <stage> --run-date {{ ds }}`` (the same wrapper
people run by hand), so a failed stage can be cleared and rerun alone: every stage reads the
previous stages' outputs for the same run date.

Exit codes of Affinity and what the task does with them:

* 0 - success.
* 1 - unexpected failure (lost executors, cluster or storage trouble): retried ``retries`` times,
  ``retry_delay`` apart.
* 2 - usage or configuration error, missing input or stage order; 3 - data-quality gate;
  4 - model-quality gate: the task fails at once, without retries. Rerunning would fail the same
  way; someone has to fix the config or the data, or accept the model, then clear the task.

How: BashOperator fails on any non-zero exit and Airflow retries every failure. The command maps
2, 3 and 4 to exit 99, which BashOperator turns into a skip (``skip_on_exit_code``), and
``AffinityStageOperator`` turns that skip into ``AirflowFailException`` (failed, no retry). The
real code is printed in the task log first. Any other code (including 99 from elsewhere, mapped
to 1) is an ordinary failure and is retried. Needs Airflow 2.6 or later (``skip_on_exit_code``);
written for Airflow 2 and 3.

Backfills: one date per run (Affinity's outputs are partitioned by run date, and stages of one
date depend on each other). ``catchup`` is off so a new deployment does not start a run for every
day since ``start_date``; fill a gap explicitly, oldest first, one run at a time
(``max_active_runs=1``)::

    airflow dags backfill affinity_nightly -s 2026-11-01 -e 2026-11-07

Params (override per run with ``airflow dags trigger affinity_nightly --conf '{"master": "yarn"}'``):
``affinity_home`` (where the project is deployed: jar in target/, scripts in submit-scripts/),
``master``, ``deploy_mode``, ``conf_file`` (the Affinity HOCON config), ``driver_memory``,
``executor_memory``, ``executor_cores``, ``num_executors``.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowFailException, AirflowSkipException

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

# The stages in the order the whole chain runs them (io.affinity.Cli.STAGES without "all").
STAGES = ["ingest", "features", "segment", "propensity", "recommend", "publish"]

# Affinity exit codes that a retry cannot fix (see the module docstring).
NO_RETRY_CODES = (2, 3, 4)
NO_RETRY_EXIT = 99

DEFAULT_PARAMS = {
    "affinity_home": "/opt/affinity",
    "master": "yarn",
    "deploy_mode": "cluster",
    "conf_file": "/opt/affinity/conf/production.conf",
    "driver_memory": "4g",
    "executor_memory": "8g",
    "executor_cores": "4",
    "num_executors": "10",
}


def stage_command(stage):
    """The bash command of one stage, a Jinja template Airflow renders per run."""
    return (
        'set +e; "{{ params.affinity_home }}/submit-scripts/affinity-submit.sh"'
        " --master '{{ params.master }}' --deploy-mode '{{ params.deploy_mode }}'"
        " --conf-file '{{ params.conf_file }}'"
        " --driver-memory '{{ params.driver_memory }}' --executor-memory '{{ params.executor_memory }}'"
        " --executor-cores '{{ params.executor_cores }}' --num-executors '{{ params.num_executors }}'"
        " -- " + stage + " --run-date '{{ ds }}'; rc=$?\n"
        'echo "affinity ' + stage + ' exited with code $rc"\n'
        "case $rc in\n"
        "  " + "|".join(str(c) for c in NO_RETRY_CODES) + ") exit " + str(NO_RETRY_EXIT) + " ;;\n"
        "  " + str(NO_RETRY_EXIT) + ") exit 1 ;;\n"
        "  *) exit $rc ;;\n"
        "esac\n"
    )


class AffinityStageOperator(BashOperator):
    """A BashOperator whose exit codes 2, 3 and 4 fail the task without retries."""

    def __init__(self, **kwargs):
        super().__init__(skip_on_exit_code=NO_RETRY_EXIT, **kwargs)

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowSkipException as e:
            raise AirflowFailException(
                "affinity exited with 2 (configuration/usage), 3 (data quality) or 4 (model quality);"
                " not retried: fix the cause named in the log, then clear this task"
            ) from e


with DAG(
    dag_id="affinity_nightly",
    description="Affinity: ingest, features, segment, propensity, recommend, publish for one run date",
    schedule="0 2 * * *",  # 02:00 every night, for the day before ({{ ds }} = the interval's start)
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    params=DEFAULT_PARAMS,
    default_args={
        "owner": "data-engineering",
        "retries": 2,
        "retry_delay": timedelta(minutes=10),
        "retry_exponential_backoff": False,
        "execution_timeout": timedelta(hours=4),
    },
    tags=["affinity"],
) as dag:
    previous = None
    for stage_name in STAGES:
        task = AffinityStageOperator(task_id=stage_name, bash_command=stage_command(stage_name))
        if previous is not None:
            previous >> task
        previous = task
