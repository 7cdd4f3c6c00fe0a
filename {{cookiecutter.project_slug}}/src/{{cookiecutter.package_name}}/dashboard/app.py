"""The script ``streamlit run`` starts: find this package, then hand over to its navigation.

Streamlit runs this file as a script, not as part of the package, so the package is imported
by the name of the folder it sits in.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent.name


def _main() -> None:
    if importlib.util.find_spec(PACKAGE) is None:  # a source checkout that is not installed
        sys.path.insert(0, str(HERE.parents[1]))
    importlib.import_module(f"{PACKAGE}.dashboard.navigation").main()


if __name__ == "__main__":
    _main()
