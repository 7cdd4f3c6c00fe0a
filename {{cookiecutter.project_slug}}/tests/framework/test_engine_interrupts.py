"""Ctrl-C and SIGTERM while a run is going: the run loop cancels between two steps, never in
the middle of one (a publish, a ledger write or a cleanup cut short)."""

from __future__ import annotations

import os
import signal
import threading

import pytest
from engine_support import cli, migrated, run, task_rows, write_models

from {{ cookiecutter.package_name }}.core.interrupts import signals_call
from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]


def interrupting(send: str) -> str:
    """Models whose first task sends SIGINT with ``send``, then waits to be told to stop (for
    10 s at most: a run that never cancels fails instead of hanging)."""
    return f"""
    import os
    import signal
    import threading
    import time

    from {{ cookiecutter.package_name }}.core.task import Task


    @Task()
    def interrupter(run):
        {send}
        deadline = time.monotonic() + 10
        while not run.should_stop() and time.monotonic() < deadline:
            time.sleep(0.02)
        if run.should_stop():
            raise RuntimeError("asked to stop")


    @Task(depends_on=[interrupter])
    def after():
        pass
"""


INTERRUPTING = interrupting("os.kill(os.getpid(), signal.SIGINT)")
# The kernel may hand a process's SIGINT to any thread; here it goes to the task's own.
INTERRUPTING_ON_A_WORKER = interrupting("signal.pthread_kill(threading.get_ident(), signal.SIGINT)")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_inside_the_block_calls_back_instead_of_raising(signum: int) -> None:
    calls = []
    with signals_call(lambda: calls.append("stop")):
        os.kill(os.getpid(), signum)
    assert calls == ["stop"]


def test_a_second_signal_raises_keyboard_interrupt() -> None:
    with pytest.raises(KeyboardInterrupt), signals_call(lambda: None):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)


def test_the_previous_handlers_are_back_after_the_block() -> None:
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    with signals_call(lambda: None):
        assert signal.getsignal(signal.SIGINT) is not before[signal.SIGINT]
    assert {number: signal.getsignal(number) for number in before} == before


def test_off_the_main_thread_the_handlers_are_left_alone() -> None:
    seen = []

    def body() -> None:
        with signals_call(lambda: None):
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGINT)]


def test_a_ctrl_c_during_a_run_cancels_it_and_the_caller_gets_the_report(
    migrated: Settings,
) -> None:
    write_models(migrated.root, INTERRUPTING)
    report = run(migrated)
    assert report.status == "cancelled"
    assert report.exit_code == 130
    states = {r.task: (r.status, r.reason) for r in task_rows(migrated, report.run_id)}
    assert states == {
        "interrupter": ("cancelled", "stopped: the run was cancelled"),
        "after": ("cancelled", "not started: the run was cancelled"),
    }


def test_a_signal_that_lands_on_a_worker_thread_still_cancels_the_run(
    migrated: Settings,
) -> None:
    write_models(migrated.root, INTERRUPTING_ON_A_WORKER)
    report = run(migrated)
    assert report.status == "cancelled"
    states = {r.task: (r.status, r.reason) for r in task_rows(migrated, report.run_id)}
    assert states["interrupter"] == ("cancelled", "stopped: the run was cancelled")


# Ctrl-C while `list` imports the models: a real SIGINT, outside any run or ingest.
SIGINT_ON_IMPORT = """
    import os
    import signal

    os.kill(os.getpid(), signal.SIGINT)
"""


@pytest.mark.parametrize("command", [["list"], ["export-dag"], ["test"]])
def test_ctrl_c_in_any_command_says_interrupted_and_exits_130(
    migrated: Settings, command: list[str]
) -> None:
    write_models(migrated.root, SIGINT_ON_IMPORT)
    stopped = cli(migrated, *command)
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.strip() == "interrupted"


# A task that hears Ctrl-C twice, as a user who stops waiting sends it, and goes on working
# inside OpenSSL (as a MySQL driver does while it connects) instead of stopping.
SECOND_CTRL_C_IN_OPENSSL = """
    import os
    import signal
    import ssl
    import time

    from {{ cookiecutter.package_name }}.core.task import Task


    @Task()
    def busy_in_openssl():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ssl.create_default_context()
"""


def test_a_second_ctrl_c_ends_the_command_with_130_while_a_task_thread_is_still_busy(
    migrated: Settings,
) -> None:
    """The run stops waiting for the task, and the process exits at once with 130: never
    with SIGSEGV from tearing OpenSSL down under the thread still using it."""
    write_models(migrated.root, SECOND_CTRL_C_IN_OPENSSL)
    codes = [cli(migrated, "run", timeout=60).returncode for _ in range(6)]
    assert codes == [130] * 6
