import subprocess

from airflow import BaseOperator, render
from airflow.exceptions import AirflowException, AirflowSkipException


class BashOperator(BaseOperator):
    """Airflow 2's BashOperator contract: run bash_command; exit 0 succeeds, an exit code in
    skip_on_exit_code raises AirflowSkipException, any other non-zero raises AirflowException."""

    def __init__(self, task_id, bash_command, skip_on_exit_code=99, **kwargs):
        super().__init__(task_id, **kwargs)
        self.bash_command = bash_command
        codes = skip_on_exit_code
        self.skip_on_exit_code = list(codes) if isinstance(codes, (list, tuple, set)) else [codes]

    def execute(self, context):
        result = subprocess.run(["bash", "-c", render(self.bash_command, context)], capture_output=True, text=True)
        self.last_output = result.stdout + result.stderr
        if result.returncode in self.skip_on_exit_code:
            raise AirflowSkipException("Bash command returned exit code %d. Skipping." % result.returncode)
        if result.returncode != 0:
            raise AirflowException("Bash command failed. The command returned a non-zero exit code %d." % result.returncode)
        return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else None
