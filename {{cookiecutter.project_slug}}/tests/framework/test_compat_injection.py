"""pydwt's config injection runs unchanged: ``Provide[Container.config.tasks.<name>]`` under
``@inject`` gets that block of settings.yml, in the engine's threads and on Dask workers."""

from __future__ import annotations

import json

import pytest
import yaml
from engine_support import PACKAGE, cli, migrated, reload, run, write_models

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.status import RunState, TaskState

__all__ = ["migrated"]

# pydwt's README example, only the import prefix changed.
PYDWT_INJECTION = """
from PACKAGE.core.task import Task
from dependency_injector.wiring import inject, Provide
from PACKAGE.core.containers import Container

@Task()
@inject
def task_one(config:dict = Provide[Container.config.tasks.task_one]):
    print(config)

@Task(depends_on=[task_one])
def task_two():
    print("somme processing")
""".replace("PACKAGE", PACKAGE)

# What else the container reaches: another task's block, a key, a missing block, the project.
RECORDS = """
import json
from pathlib import Path

from dependency_injector.wiring import Provide, inject

from PACKAGE.core.containers import Container
from PACKAGE.core.task import Task


@Task()
def task_one():
    pass


@Task()
@inject
def recorder(
    other: dict = Provide[Container.config.tasks.task_one],
    threshold: int = Provide[Container.config.tasks.task_one.threshold],
    nothing: dict = Provide[Container.config.tasks.no_block_here],
    project: str = Provide[Container.config.project.name],
    config: dict = Provide[Container.config.tasks.recorder],
):
    seen = dict(other=other, threshold=threshold, nothing=nothing, project=project, config=config)
    Path(__file__).with_name("seen.json").write_text(json.dumps(seen))
""".replace("PACKAGE", PACKAGE)

TASK_BLOCKS = {
    "task_one": {"materialize": "table", "threshold": 3, "label": "first"},
    "recorder": {"note": "mine"},
}


def with_task_blocks(settings: Settings, names: tuple[str, ...] = tuple(TASK_BLOCKS)) -> Settings:
    """settings.yml with these blocks of TASK_BLOCKS (a block must name a task of the models)."""
    path = settings.root / "settings.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["tasks"] = {name: TASK_BLOCKS[name] for name in names}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return reload(settings)


def test_the_pydwt_injection_example_gets_its_settings_block(migrated: Settings, capsys) -> None:
    settings = with_task_blocks(migrated, ("task_one",))
    write_models(settings.root, PYDWT_INJECTION, module="example")
    report = run(settings)
    assert report.tasks == {"task_one": TaskState.SUCCESS, "task_two": TaskState.SUCCESS}
    printed = capsys.readouterr().out.splitlines()
    assert str(TASK_BLOCKS["task_one"]) in printed
    assert "somme processing" in printed


def test_provide_reaches_any_block_key_or_section(migrated: Settings) -> None:
    settings = with_task_blocks(migrated)
    write_models(settings.root, RECORDS, module="records")
    report = run(settings)
    assert report.tasks["recorder"] == TaskState.SUCCESS, report.errors
    seen = json.loads((settings.root / "models" / "seen.json").read_text())
    assert seen == {
        "other": TASK_BLOCKS["task_one"],
        "threshold": 3,
        "nothing": {},  # a task without a block gets {}, as the engine's own `config` does
        "project": settings.project.name,
        "config": {"note": "mine"},
    }


FOREIGN = """
from dependency_injector import containers, providers
from dependency_injector.wiring import Provide, inject

from PACKAGE.core.task import Task


class Mine(containers.DeclarativeContainer):
    client = providers.Object("a client")


@Task()
@inject
def uses_my_container(client: str = Provide[Mine.client]):
    print(client)
""".replace("PACKAGE", PACKAGE)


def test_a_provide_the_engine_cannot_fill_is_refused_before_running(migrated: Settings) -> None:
    write_models(migrated.root, FOREIGN, module="foreign")
    result = cli(migrated, "run")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    message = " ".join((result.stderr + result.stdout).split())
    assert "(models/foreign.py:12): parameter 'client' is injected from Provide[" in message
    assert "use Provide[Container.config.<key>]" in message


def test_injection_works_on_a_dask_worker_without_the_projects_files(
    bare_worker, migrated: Settings
) -> None:
    from {{ cookiecutter.package_name }}.core.dask_executor import DaskExecutor

    client, _ = bare_worker
    settings = with_task_blocks(migrated)
    write_models(settings.root, RECORDS, module="records")
    report = run(settings, executor=DaskExecutor(client=client, project_root=settings.root))
    assert report.status == RunState.SUCCESS, report.errors
    seen = json.loads((settings.root / "models" / "seen.json").read_text())
    assert (seen["other"], seen["config"]) == (TASK_BLOCKS["task_one"], {"note": "mine"})


pytest.importorskip("distributed")
from test_dask_executor import bare_worker  # noqa: E402  the same bare worker process

__all__ += ["bare_worker"]
