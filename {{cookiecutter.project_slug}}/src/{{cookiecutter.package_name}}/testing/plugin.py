"""The pytest plugin for testing the project's tasks (tests/conftest.py registers it).

Fixtures: ``pipeline_project`` (the project folder; override it to test another),
``pipeline_db`` (a migrated throwaway database, see ``database.py``), ``session`` (a Session on
it) and ``run_task(name, given=..., config=...)``. Files ``test_*.yml`` are collected as task
cases (``cases.py``); a failing case shows the task, its given tables and a row diff.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from ..errors import DatabaseError
from ..settings import SETTINGS_FILE
from ..sql.session import Session
from .cases import CaseFileError, TaskCase, read_cases
from .database import PipelineDb, pipeline_database, server_for
from .run import TaskResult, TaskTestError
from .run import run_task as run_task_on

RunTask = Callable[..., TaskResult]
_TEMPLATE = pytest.StashKey[dict[Path, Path]]()


@pytest.fixture
def pipeline_project(request: pytest.FixtureRequest) -> Path:
    """The project whose tasks are tested: the folder of pytest's rootdir settings.yml."""
    root = request.config.rootpath
    if not (root / SETTINGS_FILE).is_file():
        pytest.fail(f"no {SETTINGS_FILE} in {root}: run pytest from the project folder")
    return root


@pytest.fixture
def pipeline_db(
    pipeline_project: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[PipelineDb]:
    """A throwaway database migrated to head, with the project's settings pointed at it."""
    with _set_up(), _database(request.config, pipeline_project, tmp_path / "pipeline") as db:
        yield db


@pytest.fixture
def session(pipeline_db: PipelineDb) -> Session:
    """A Session on the test database."""
    return Session(pipeline_db.engine, settings=pipeline_db.settings)


@pytest.fixture
def run_task(pipeline_db: PipelineDb) -> RunTask:
    """``run_task(name, given={table: rows}, config=None) -> TaskResult`` on the test database."""

    def run(
        name: str,
        given: Mapping[str, object] | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> TaskResult:
        return run_task_on(pipeline_db, name, given, config)

    return run


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """``test_*.yml`` / ``test_*.yaml`` files are task cases."""
    if file_path.suffix in (".yml", ".yaml") and file_path.name.startswith("test_"):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    """A file of task cases: one test per case."""

    def collect(self) -> Iterator[CaseItem]:
        try:
            cases = read_cases(self.path)
        except CaseFileError as exc:
            raise self.CollectError(str(exc)) from None
        for case in cases:
            yield CaseItem.from_parent(self, name=case.title, case=case)


class CaseItem(pytest.Item):
    """One case: its task run on the given tables, compared with the expected rows."""

    def __init__(self, *, case: TaskCase, **kwargs: Any):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        root = self.config.rootpath
        with tempfile.TemporaryDirectory(prefix="task-case-") as folder:
            with _set_up(), _database(self.config, root, Path(folder)) as db:
                result = run_task_on(db, self.case.task, self.case.given, self.case.config)
                result.expect_rows(self.case.expect, self.case.key)
                _expect_checks(result, self.case.checks)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, TaskTestError):
            return f"{self.path.name}:{self.case.line}: {excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, self.case.title


def _expect_checks(result: TaskResult, expected: Mapping[str, str]) -> None:
    for name, status in expected.items():
        found = result.check(name)
        if found.status != status:
            raise TaskTestError(
                f"task {result.task}: check {name} expected {status}, got {found.status} "
                f"({found.failing_rows} failing rows)"
            )


@contextmanager
def _set_up() -> Iterator[None]:
    """A test database that cannot be made (a server down, a login refused) fails the test
    with the paragraph that names the fix, not a traceback."""
    try:
        yield
    except DatabaseError as exc:
        message = f"the test database, on the MYSQL_URL / POSTGRES_URL server: {exc}"
        raise pytest.fail.Exception(message, pytrace=False) from None


def _database(
    config: pytest.Config, root: Path, workdir: Path
) -> AbstractContextManager[PipelineDb]:
    """The test database: SQLite copied from a once-migrated file, or a server's database."""
    server = server_for(root)
    if server is not None:
        return pipeline_database(root, workdir, server=server)
    templates = config.stash.setdefault(_TEMPLATE, {})
    if root not in templates:
        folder = Path(tempfile.mkdtemp(prefix="pipeline-template-"))
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
        with pipeline_database(root, folder) as db:
            templates[root] = Path(db.engine.url.database or "")
    return pipeline_database(root, workdir, template=templates[root])
