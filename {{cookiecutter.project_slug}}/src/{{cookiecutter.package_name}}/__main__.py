"""``python -m <package>`` and the project's console script: the command line, in a process of
its own."""

import atexit
import gc
import os
import signal
import sys


def entry() -> None:
    """Run the command line in this process, sparing the garbage collector work that frees
    nothing.

    Importing the libraries (SQLAlchemy, pydantic, typer, rich...) allocates a great deal and
    frees almost nothing, so collections while importing are skipped and what the imports built
    is frozen (later collections during the command do not walk it again). At exit, everything
    still alive is frozen too: the interpreter's final collection would otherwise walk and free
    the whole heap, which the operating system reclaims anyway. Modules are still torn down,
    standard streams flushed and ``atexit`` handlers run as usual, unless a task thread is
    still working (``_leave``).
    """
    gc.disable()
    try:
        from .cli import main
    finally:
        gc.freeze()
        gc.enable()
    try:
        main()
    except SystemExit as exc:
        _leave(exc.code)
        raise
    else:
        _leave(0)
    finally:
        gc.freeze()


def _leave(code: object) -> None:
    """End the process now, with ``code``, if a task thread is still working (a second Ctrl-C
    stopped waiting for it): ``atexit`` handlers run and the streams are flushed, but the
    C libraries' own exit clean-up does not, which would tear OpenSSL down under a thread still
    using it (a MySQL driver connecting) and end the command with SIGSEGV instead."""
    from .core.executors import working_task_threads

    # Ctrl-C again (or another task's SIGINT) while we look: the command is ending anyway.
    stops = (signal.SIGINT, signal.SIGTERM)
    handlers = {signum: signal.signal(signum, signal.SIG_IGN) for signum in stops}
    if not working_task_threads():
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        return
    if isinstance(code, str):
        print(code, file=sys.stderr)
    status = code if isinstance(code, int) else 0 if code is None else 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    entry()
