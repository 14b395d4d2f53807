"""A minimal stand-in for Airflow (not installable in the build): just enough of DAG, BashOperator
and the exceptions to import affinity_dag.py, record its tasks and run a task's bash command with
BashOperator's exit-code semantics (0 success, skip_on_exit_code -> AirflowSkipException, any other
non-zero -> AirflowException)."""
import re
import subprocess

_current = []


class DAG:
    def __init__(self, dag_id, **kwargs):
        self.dag_id = dag_id
        self.kwargs = kwargs
        self.tasks = []

    def __enter__(self):
        _current.append(self)
        return self

    def __exit__(self, *exc):
        _current.pop()
        return False


class BaseOperator:
    def __init__(self, task_id, **kwargs):
        self.task_id = task_id
        self.kwargs = kwargs
        self.upstream = []
        self.dag = _current[-1] if _current else None
        if self.dag is None:
            raise RuntimeError("operator created outside a DAG context: " + task_id)
        self.dag.tasks.append(self)

    def __rshift__(self, other):
        other.upstream.append(self.task_id)
        return other


def render(template, context):
    """Replaces {{ ds }} and {{ params.x }} as Jinja would for these simple expressions."""
    def value(m):
        expr = m.group(1).strip()
        if expr.startswith("params."):
            return str(context["params"][expr[len("params."):]])
        return str(context[expr])
    return re.sub(r"\{\{(.*?)\}\}", value, template)
