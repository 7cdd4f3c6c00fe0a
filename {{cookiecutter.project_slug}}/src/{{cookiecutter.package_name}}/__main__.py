"""``python -m <package>`` and the project's console script: the command line, in a process of
its own."""

import gc


def entry() -> None:
    """Run the command line in this process, sparing the garbage collector work that frees
    nothing.

    Importing the libraries (SQLAlchemy, pydantic, typer, rich...) allocates a great deal and
    frees almost nothing, so collections while importing are skipped and what the imports built
    is frozen (later collections during the command do not walk it again). At exit, everything
    still alive is frozen too: the interpreter's final collection would otherwise walk and free
    the whole heap, which the operating system reclaims anyway. Modules are still torn down,
    standard streams flushed and ``atexit`` handlers run as usual.
    """
    gc.disable()
    try:
        from .cli import main
    finally:
        gc.freeze()
        gc.enable()
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":
    entry()
