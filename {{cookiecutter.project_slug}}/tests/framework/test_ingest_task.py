"""An ingest model is a task: it sits in the DAG both ways and its runs reach the ledgers."""

from __future__ import annotations

from engine_support import migrated, run, task_rows, write_models
from ingest_support import HEADER, good_rows, objects, orders_model, trades_model, write

from {{ cookiecutter.package_name }}.core.dag import Dag
from {{ cookiecutter.package_name }}.core.task import Task
from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.ingest import CsvSource, IngestModel, fields
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import RunState, TaskState

__all__ = ["migrated"]

PIPELINE = f"""
    from {{ cookiecutter.package_name }}.core.task import Task
    from {{ cookiecutter.package_name }}.ingest import CsvSource, IngestModel, fields
    from sqlalchemy import text

    @Task()
    def prepare():
        pass
{orders_model('depends_on=[prepare]')}
    @Task(depends_on=["orders"])
    def report(engine):
        with engine.connect() as conn:
            count = conn.execute(text("SELECT COUNT(*) FROM orders")).scalar_one()
        assert count > 0, "orders is empty"
"""


def test_a_model_is_a_task_named_after_it_with_its_class_keywords_as_options() -> None:
    @Task()
    def upstream():
        pass

    class DailyPrices(IngestModel, depends_on=[upstream], retry=2, tags=["raw"]):
        __table__ = "daily_prices"
        __source__ = CsvSource("inbox/*.csv")
        id = fields.Integer(required=True)

    task = DailyPrices.__task__
    assert isinstance(task, Task) and task.name == "daily_prices"
    assert task.upstream_names == ("upstream",) and (task.retry, task.tags) == (2, ("raw",))


def test_tasks_can_depend_on_a_model_and_a_model_on_tasks() -> None:
    @Task()
    def fetch():
        pass

    model = trades_model()
    model_task = model.__task__

    class Later(IngestModel, name=f"{model.__model_name__}_after", depends_on=[model_task, fetch]):
        __table__ = "later"
        __source__ = CsvSource("inbox/*.csv")
        id = fields.Integer(required=True)

    @Task(depends_on=[model_task])
    def summarise():
        pass

    dag = Dag.from_tasks({t.name: t for t in (fetch, model_task, Later.__task__, summarise)})
    assert set(dag.downstream(model_task.name)) >= {summarise.name, Later.__task__.name}
    assert set(dag.upstream(Later.__task__.name)) == {model_task.name, fetch.name}


def test_running_the_pipeline_ingests_and_links_the_objects_to_the_run(
    migrated: Settings,
) -> None:
    write_models(migrated.root, PIPELINE)
    write(migrated.root, "a.csv", HEADER + good_rows(3) + "4,x,abc,2024-01-01,1\n")
    report = run(migrated)
    assert report.status == RunState.SUCCESS, report.errors
    assert report.tasks == {n: TaskState.SUCCESS for n in ("prepare", "orders", "report")}
    rows = {row.task: row for row in task_rows(migrated, report.run_id)}
    assert rows["orders"].status == "success"
    engine = make_engine(migrated.database_url)
    try:
        [obj] = objects(engine, "orders")
    finally:
        engine.dispose()
    assert obj.run_id == report.run_id
    assert (obj.rows_read, obj.rows_loaded, obj.rows_rejected) == (4, 3, 1)


def loaded_by_run(settings: Settings) -> dict[str, tuple[str, int]]:
    engine = make_engine(settings.database_url)
    try:
        found = objects(engine, "orders")
    finally:
        engine.dispose()
    return {o.source_uri.rsplit("/", 1)[-1]: (o.run_id, o.model_version) for o in found}


def test_an_unchanged_ingest_task_is_cached_like_any_other_task(migrated: Settings) -> None:
    write_models(migrated.root, PIPELINE)
    write(migrated.root, "a.csv", HEADER + good_rows(3))
    run(migrated)
    second = run(migrated)
    assert second.reasons["orders"] == "cached"


def test_with_a_ttl_the_ingest_looks_again_and_loads_only_new_files(migrated: Settings) -> None:
    polling = PIPELINE.replace("depends_on=[prepare])", "depends_on=[prepare], ttl_minutes=1e-6)")
    write_models(migrated.root, polling)
    write(migrated.root, "a.csv", HEADER + good_rows(3))
    first = run(migrated)
    write(migrated.root, "b.csv", HEADER + good_rows(2, start=10))
    second = run(migrated)
    assert second.tasks["orders"] == TaskState.SUCCESS, second.reasons
    assert loaded_by_run(migrated) == {"a.csv": (first.run_id, 1), "b.csv": (second.run_id, 1)}


def test_editing_a_field_makes_the_task_due_and_reloads_with_the_new_version(
    migrated: Settings,
) -> None:
    write_models(migrated.root, PIPELINE)
    write(migrated.root, "a.csv", HEADER + good_rows(3))
    run(migrated)
    write_models(
        migrated.root, PIPELINE.replace("fields.UppercaseString", "fields.LowercaseString")
    )
    second = run(migrated)
    assert second.reasons["orders"].startswith("due: code"), second.reasons
    assert loaded_by_run(migrated) == {"a.csv": (second.run_id, 2)}


def test_a_failed_object_fails_the_task_and_its_downstream(migrated: Settings) -> None:
    write_models(migrated.root, PIPELINE)
    write(migrated.root, "empty.csv", b"")
    report = run(migrated)
    assert report.tasks["orders"] == TaskState.FAILED
    assert report.tasks["report"] == TaskState.UPSTREAM_FAILED
    assert "empty.csv: is empty (0 bytes)" in report.errors["orders"]
