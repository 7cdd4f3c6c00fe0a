"""The engine's public names: what other parts of the project (and users) import."""

from __future__ import annotations

import importlib

import pytest

PACKAGE = "{{ cookiecutter.package_name }}"

CONTRACT = {
    "core.task": ["Task"],
    "core.schedule": ["Daily", "Weekly", "Monthly", "Cron"],
    "status": ["TaskState", "RunState", "TERMINAL"],
    "core.discovery": ["discover"],
    "core.dag": ["Dag"],
    "core.executors": ["Executor", "ThreadExecutor"],
    "core.runner": ["run_pipeline", "load_dag"],
    "core.report": ["RunReport", "RunObserver"],
    "core.attempt": ["AttemptCall", "AttemptOutcome", "run_attempt"],
    "db.ledger": ["Ledger", "LedgerWriter"],
    "db.locks": ["RunLock", "TableRunLock", "run_lock_for"],
    "cli": ["app", "main"],
}


@pytest.mark.parametrize("module", sorted(CONTRACT))
def test_each_engine_module_exports_its_contract(module: str) -> None:
    loaded = importlib.import_module(f"{PACKAGE}.{module}")
    assert set(CONTRACT[module]) <= set(loaded.__all__)
    missing = [name for name in loaded.__all__ if not hasattr(loaded, name)]
    assert missing == []


def test_a_task_has_every_contract_attribute() -> None:
    from {{ cookiecutter.package_name }}.core.schedule import Monthly
    from {{ cookiecutter.package_name }}.core.task import Task

    @Task()
    def upstream():
        pass

    @Task(
        depends_on=[upstream],
        retry=3,
        retry_delay=1.5,
        ttl_minutes=60,
        runs_on=Monthly(),
        tags=["marts"],
        name="renamed",
        timeout=30,
        checks=["a-check"],
        stage="marts",
    )
    def original():
        return "ran"

    assert original() == "ran"
    assert (original.name, original.func.__name__) == ("renamed", "original")
    assert original.depends_on == (upstream,) and original.retry == 3
    assert (original.retry_delay, original.ttl_minutes, original.timeout) == (1.5, 60, 30)
    assert original.runs_on == Monthly() and original.tags == ("marts",)
    assert original.checks == ("a-check",) and original.stage == "marts"
