"""Loads affinity_dag.py against the stub airflow package and prints, as JSON: the DAG settings, the
tasks in order with their upstream tasks, and for each exit code of a fake affinity-submit.sh what
Airflow would do with the task (success, retry or fail without retry) and the arguments it got.
Usage: python3 harness.py <dag file> <fake affinity home>"""
import importlib.util
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "stubs"))
from airflow.exceptions import AirflowException, AirflowFailException  # noqa: E402

dag_file, home = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("affinity_dag", dag_file)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
dag = module.dag

report = {
    "dag_id": dag.dag_id,
    "max_active_runs": dag.kwargs.get("max_active_runs"),
    "catchup": dag.kwargs.get("catchup"),
    "retries": dag.kwargs.get("default_args", {}).get("retries"),
    "retry_delay_seconds": dag.kwargs.get("default_args", {}).get("retry_delay").total_seconds(),
    "params": sorted(dag.kwargs.get("params", {}).keys()),
    "tasks": [{"task_id": t.task_id, "upstream": t.upstream, "operator": type(t).__name__} for t in dag.tasks],
    "outcomes": {},
}

params = dict(dag.kwargs["params"], affinity_home=home)
context = {"ds": "2026-11-20", "params": params}
task = dag.tasks[0]
for code in [0, 1, 2, 3, 4, 99, 137]:
    os.environ["FAKE_EXIT"] = str(code)
    try:
        task.execute(context)
        outcome = "success"
    except AirflowFailException:
        outcome = "fail_no_retry"
    except AirflowException:
        outcome = "fail_retry"
    with open(os.path.join(home, "args.txt")) as f:
        args = f.read().split()
    report["outcomes"][str(code)] = {"outcome": outcome, "args": args}
print(json.dumps(report))
