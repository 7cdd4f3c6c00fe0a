"""A data pipeline: tasks in a DAG, a DataFrame over SQL, a run ledger and a dashboard."""

__version__ = "0.1.0"
