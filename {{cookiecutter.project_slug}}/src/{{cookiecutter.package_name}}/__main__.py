"""``python -m <package>``: the command line."""

from .cli import main

main()
