"""The example pipeline: PyDBT's football predictions, on the project's own database.

load_predictions reads seeds/predictions.csv into the ``predictions`` table; task_one..task_four
are PyDBT's example with ``session`` injected instead of built at import time. task_two and
task_three return their DataFrame, so each is materialized as a table named after the task.
"""

from pathlib import Path

import pandas as pd
from sqlalchemy import case, func

from {{ cookiecutter.package_name }}.core.schedule import Monthly
from {{ cookiecutter.package_name }}.core.task import Task

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


@Task(retry=2, retry_delay=0.5, tags=["staging"])
def load_predictions(session):
    """Load the seed file; the table is replaced as a whole, so a re-run is harmless."""
    frame = pd.read_csv(SEEDS / "predictions.csv")
    session.create_dataframe(frame, name="predictions")


@Task(depends_on=[load_predictions], ttl_minutes=60)
def task_one(session):
    df = session.table("predictions")
    df.show()


@Task(depends_on=[task_one], tags=["marts"])
def task_two(session):
    df = session.table("predictions")
    df = df.where((df.matchDate == "2022-12-30"))
    df = df.with_column("new_column", case((df.preds == "hw", "W")))
    df = df.group_by(df.matchDate, df.preds, agg={"preds": (func.count, "count_preds")})
    df.show()
    return df


@Task(depends_on=[task_one], tags=["marts"])
def task_three(session):
    df = session.table("predictions")
    df = df.where((df.matchDate == "2022-12-31"))
    df = df.with_column("new_column", case((df.preds == "hw", "W")))
    df = df.group_by(df.matchDate, df.preds, agg={"preds": (func.count, "count_preds")})
    df.show()
    return df


@Task(depends_on=[task_three, task_two], runs_on=Monthly())
def task_four(session):
    df = session.table("predictions")
    df = df.where((df.matchDate == "2022-12-31"))
    df.show()
