"""The example pipeline: PyDBT's football predictions, on the project's own database.

load_predictions ingests seeds/predictions.csv into the ``predictions`` table: each row typed
and checked (bad rows go to ``etl_rejects``), the file loaded once per model version.
task_one..task_four are PyDBT's example with ``session`` injected instead of built at import
time. task_two and task_three return their DataFrame, so each is materialized as a table named
after the task.
"""

from sqlalchemy import case, func

from {{ cookiecutter.package_name }}.core.schedule import Monthly
from {{ cookiecutter.package_name }}.core.task import Task
from {{ cookiecutter.package_name }}.ingest import CsvSource, IngestModel, fields


class Predictions(IngestModel, name="load_predictions", retry=2, retry_delay=0.5, tags=["staging"]):
    """The seed file, typed and checked row by row."""

    __table__ = "predictions"
    __source__ = CsvSource("seeds/predictions.csv")

    id = fields.Integer(required=True)
    matchDate = fields.Date(required=True)
    homeTeam = fields.String(length=40, required=True)
    awayTeam = fields.String(length=40, required=True)
    preds = fields.LowercaseString(length=2, required=True)
    probability = fields.Float()


load_predictions = Predictions.__task__


@Task(depends_on=[load_predictions], ttl_minutes=60)
def task_one(session):
    df = session.table("predictions")
    df.show()


@Task(depends_on=[task_one], tags=["marts"])
def task_two(session):
    df = session.table("predictions")
    df = df.where(df.matchDate == "2022-12-30")
    df = df.with_column("new_column", case((df.preds == "hw", "W")))
    df = df.group_by(df.matchDate, df.preds, agg={"preds": (func.count, "count_preds")})
    df.show()
    return df


@Task(depends_on=[task_one], tags=["marts"])
def task_three(session):
    df = session.table("predictions")
    df = df.where(df.matchDate == "2022-12-31")
    df = df.with_column("new_column", case((df.preds == "hw", "W")))
    df = df.group_by(df.matchDate, df.preds, agg={"preds": (func.count, "count_preds")})
    df.show()
    return df


@Task(depends_on=[task_three, task_two], runs_on=Monthly())
def task_four(session):
    df = session.table("predictions")
    df = df.where(df.matchDate == "2022-12-31")
    df.show()
