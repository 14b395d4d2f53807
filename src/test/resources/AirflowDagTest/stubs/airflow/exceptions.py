class AirflowException(Exception):
    """Task failed; Airflow retries it while retries are left."""


class AirflowSkipException(AirflowException):
    """Task skipped."""


class AirflowFailException(AirflowException):
    """Task failed; Airflow does not retry it."""
