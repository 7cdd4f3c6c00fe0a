"""Database faults on MariaDB: a server restarted between two tasks, a connection killed in the
middle of a materialization, and a run lock whose connection was taken away.

The restart test starts its own throwaway ``mariadbd`` (another port, another data folder), so
a server other tests share is never restarted; it is skipped when ``mariadbd`` is not installed
(a failure under REQUIRE_MYSQL=1).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_support import cli, migrated, start_cli, task_rows, write_models
from faults_support import PACKAGE, leftovers, rows_of
from sqlalchemy import text

from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.mysql_lock import MySQLRunLock
from {{ cookiecutter.package_name }}.db.schema import upgrade
from {{ cookiecutter.package_name }}.errors import RunLockLostError
from {{ cookiecutter.package_name }}.settings import Settings, load_settings
from {{ cookiecutter.package_name }}.sql.session import Session

__all__ = ["migrated"]
pytestmark = [pytest.mark.faults, pytest.mark.mysql]
# the project database on the MySQL server only (KILL and GET_LOCK are MySQL's)
ON_MYSQL = pytest.mark.parametrize(
    "database_url", [pytest.param("mysql", marks=pytest.mark.mysql)], indirect=True
)

RESTART_PIPELINE = """
    import time
    from pathlib import Path

    from PACKAGE.core.task import Task

    MARKS = Path(__file__).resolve().parents[1] / "marks"


    @Task()
    def first(session):
        df = session.table("seed")
        return df.with_column("w", df.v * 2)


    @Task(depends_on=[first])
    def pause():
        MARKS.mkdir(exist_ok=True)
        (MARKS / "paused").write_text("")
        while not (MARKS / "go").exists():
            time.sleep(0.02)


    @Task(depends_on=[pause])
    def second(session):
        df = session.table("first")
        return df.with_column("z", df.w + 1)
""".replace("PACKAGE", PACKAGE)

KILLED_PIPELINE = """
    from PACKAGE.core.task import Task


    @Task(retry=1, retry_delay=0.1)
    def slow(session, run):
        pause = 0.6 if run.attempt == 1 else 0
        return session.sql("SELECT v, v * 3 AS w, SLEEP(:pause) AS idle FROM seed", pause=pause)
""".replace("PACKAGE", PACKAGE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A throwaway mariadbd on its own port and data folder."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, _free_port()
        self.socket = folder / "mysqld.sock"
        self.process: subprocess.Popen | None = None

    def install(self) -> None:
        subprocess.run(
            [
                "mariadb-install-db",
                "--user=root",
                f"--datadir={self.folder / 'data'}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                "--user=root",
                f"--datadir={self.folder / 'data'}",
                f"--socket={self.socket}",
                "--bind-address=127.0.0.1",
                f"--port={self.port}",
                f"--pid-file={self.folder / 'mysqld.pid'}",
                f"--log-error={self.folder / 'error.log'}",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=16M",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not self._answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                log = (self.folder / "error.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"mariadbd did not start:\n{log}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        self.process = None

    def root_sql(self, statement: str) -> None:
        subprocess.run(
            ["mariadb", "--protocol=socket", f"--socket={self.socket}", "-uroot", "-e", statement],
            check=True,
            capture_output=True,
        )

    def _answers(self) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            return probe.connect_ex(("127.0.0.1", self.port)) == 0 and self.socket.exists()


@pytest.fixture
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """A URL on a private MariaDB server that this test alone may restart."""
    if shutil.which("mariadbd") is None or shutil.which("mariadb-install-db") is None:
        if os.environ.get("REQUIRE_MYSQL") == "1":
            pytest.fail("REQUIRE_MYSQL=1 but mariadbd is not installed for the restart test")
        pytest.skip("mariadbd is not installed; the restart test needs its own server")
    server = Server(tmp_path_factory.mktemp("mariadb"))
    server.install()
    server.start()
    try:
        password = uuid.uuid4().hex
        server.root_sql(
            "CREATE DATABASE faults CHARACTER SET utf8mb4;"
            f"CREATE USER 'faults'@'127.0.0.1' IDENTIFIED BY '{password}';"
            "GRANT ALL ON faults.* TO 'faults'@'127.0.0.1';"
        )
        yield server, f"mysql+pymysql://faults:{password}@127.0.0.1:{server.port}/faults"
    finally:
        server.stop()


@pytest.mark.slow
def test_a_server_restart_between_two_tasks_fails_no_task(
    own_server, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, url = own_server
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PIPELINE_SETTINGS", str(project / "settings.yml"))
    settings = load_settings(project / "settings.yml")
    upgrade(settings)
    _seed(settings)
    write_models(project, RESTART_PIPELINE)

    process = start_cli(settings, "run")
    marks = project / "marks"
    deadline = time.monotonic() + 60
    while not _between_tasks(settings, marks):  # first is recorded, pause waits
        assert time.monotonic() < deadline and process.poll() is None, "the run never paused"
        time.sleep(0.05)
    server.stop()
    server.start()
    (marks / "go").write_text("")
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 0, stderr
    states = [(r.task, r.attempt, r.status) for r in task_rows(settings)]
    assert states == [("first", 1, "success"), ("pause", 1, "success"), ("second", 1, "success")]
    engine = make_engine(url)
    try:
        assert rows_of(engine, "second") == {(v, 2 * v, 2 * v + 1) for v in range(1, 6)}
    finally:
        engine.dispose()


@ON_MYSQL
@pytest.mark.slow
def test_a_killed_connection_fails_the_attempt_and_the_retry_succeeds(
    migrated: Settings,
) -> None:
    _seed(migrated)
    engine = make_engine(migrated.database_url)
    try:
        Session(engine).create_dataframe([{"v": 1, "w": 0, "idle": 0}], name="slow")
        write_models(migrated.root, KILLED_PIPELINE)
        process = start_cli(migrated, "run")
        victim = _wait_for_query(engine, "CREATE TABLE", process)
        with engine.connect() as conn:
            conn.execute(text(f"KILL {int(victim)}"))
        _, stderr = process.communicate(timeout=120)

        assert process.returncode == 0, stderr
        rows = task_rows(migrated)
        assert [(r.attempt, r.status) for r in rows] == [(1, "failed"), (2, "success")]
        assert "could not materialize 'slow'" in rows[0].error
        assert rows_of(engine, "slow") == {(v, 3 * v, 0) for v in range(1, 6)}
        assert leftovers(migrated) == []
    finally:
        engine.dispose()


@ON_MYSQL
def test_a_run_lock_taken_over_after_its_connection_dropped_is_lost(migrated: Settings) -> None:
    engine = make_engine(migrated.database_url)
    try:
        first, second = MySQLRunLock(engine), MySQLRunLock(engine)
        first.acquire("run-one")
        first.verify()
        _kill(engine, first)
        second.acquire("run-two")  # the server freed the lock with the connection
        with pytest.raises(RunLockLostError, match="lost the run lock"):
            first.verify()
        second.release()
        first.release()
    finally:
        engine.dispose()


@ON_MYSQL
def test_a_run_lock_whose_connection_dropped_is_taken_back(migrated: Settings) -> None:
    engine = make_engine(migrated.database_url)
    try:
        lock = MySQLRunLock(engine)
        lock.acquire("run-one")
        _kill(engine, lock)
        lock.verify()  # nobody took it meanwhile: held again
        write_models(migrated.root, KILLED_PIPELINE)
        refused = cli(migrated, "run")
        assert refused.returncode == 1
        assert "(run run-one," in " ".join(refused.stderr.split())
        lock.release()
    finally:
        engine.dispose()


def _between_tasks(settings: Settings, marks: Path) -> bool:
    """``first`` is recorded as a success and ``pause`` has started: nothing is in flight."""
    if not (marks / "paused").exists():
        return False
    states = {(r.task, r.status) for r in task_rows(settings)}
    return {("first", "success"), ("pause", "running")} <= states


def _kill(engine, lock: MySQLRunLock) -> None:  # type: ignore[no-untyped-def]
    """KILL the lock's connection and wait until the server has freed the lock."""
    with engine.connect() as conn:
        conn.execute(text(f"KILL {lock._conn_id}"))
        deadline = time.monotonic() + 10
        while conn.scalar(text("SELECT IS_USED_LOCK(:key)"), {"key": lock.key}) is not None:
            assert time.monotonic() < deadline, "the server never freed the lock"
            time.sleep(0.02)


def _seed(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        Session(engine).create_dataframe([{"v": v} for v in range(1, 6)], name="seed")
    finally:
        engine.dispose()


def _wait_for_query(engine, fragment: str, process) -> int:  # type: ignore[no-untyped-def]
    """The id of the connection running a statement that contains ``fragment``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        with engine.connect() as conn:
            for row in conn.execute(text("SHOW FULL PROCESSLIST")):
                if row.Info and fragment in row.Info and "SLEEP" in row.Info:
                    return int(row.Id)
        time.sleep(0.05)
    raise AssertionError(f"no query with {fragment!r} appeared")
