"""The default bake against its reviewed snapshot in tests/snapshots/default/.

Each baked file is stored as ``<path>.snap`` so that no tool (pytest, black, git's ignore and
attribute files, Dependabot) mistakes the snapshot for a live project. What differs between
machines and days is normalised first: the template's location and commit in ``.cruft.json``
and the copyright year. After an intended template change, ``make snapshot`` (that is,
``python tests/test_snapshot.py``) rewrites the snapshot; review its diff like code.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import OPTION_SETS, bake
from manifest import IGNORED_PARTS, TEMPLATE

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "default"
SUFFIX = ".snap"
DEFAULTS = OPTION_SETS[0]
MAX_DIFF_LINES = 400
YEAR = re.compile(rb"(Copyright \(c\) )(\d{4})")


def normalise_cruft(data: bytes) -> bytes:
    """Where the template lives and which commit it was at depend on the machine."""
    state = json.loads(data)
    context = state["context"]["cookiecutter"]
    state["template"] = context["_template"] = "<template>"
    state["commit"] = context["_commit"] = "<commit>"
    return json.dumps(state, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def normalise_year(data: bytes) -> bytes:
    """The licence is dated the year of the bake."""
    return YEAR.sub(rb"\g<1><year>", data)


NORMALISERS: dict[str, Callable[[bytes], bytes]] = {
    ".cruft.json": normalise_cruft,
    "LICENSE": normalise_year,
}


def baked_tree(root: Path) -> dict[str, bytes]:
    """Every file of a bake by relative path, normalised."""
    tree = {}
    for path in sorted(root.rglob("*")):
        # Caches a local run may leave in the template folder are no part of the output.
        if path.is_file() and not IGNORED_PARTS & set(path.relative_to(root).parts):
            relative = path.relative_to(root).as_posix()
            tree[relative] = NORMALISERS.get(relative, lambda data: data)(path.read_bytes())
    return tree


def stored_tree() -> dict[str, bytes]:
    """The snapshot as it is committed."""
    return {
        path.relative_to(SNAPSHOT).as_posix().removesuffix(SUFFIX): path.read_bytes()
        for path in sorted(SNAPSHOT.rglob(f"*{SUFFIX}"))
    }


def write_snapshot(tree: dict[str, bytes]) -> None:
    """Replace the stored snapshot with ``tree``."""
    shutil.rmtree(SNAPSHOT, ignore_errors=True)
    for relative, data in tree.items():
        target = SNAPSHOT / f"{relative}{SUFFIX}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def unified_diff(relative: str, stored: bytes, baked: bytes) -> list[str]:
    try:
        old, new = stored.decode("utf-8"), baked.decode("utf-8")
    except UnicodeDecodeError:
        return [f"Binary files snapshot/{relative} and bake/{relative} differ\n"]
    return list(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"snapshot/{relative}",
            tofile=f"bake/{relative}",
        )
    )


def describe_differences(stored: dict[str, bytes], baked: dict[str, bytes]) -> str:
    """What changed, as a reviewer wants to read it: files added, removed, and unified diffs."""
    lines = [f"+ new file {name}\n" for name in sorted(baked.keys() - stored.keys())]
    lines += [f"- removed file {name}\n" for name in sorted(stored.keys() - baked.keys())]
    for name in sorted(stored.keys() & baked.keys()):
        if stored[name] != baked[name]:
            lines += unified_diff(name, stored[name], baked[name])
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + [f"... {len(lines) - MAX_DIFF_LINES} more lines\n"]
    return "".join(lines)


def test_the_default_bake_matches_the_snapshot(tmp_path: Path) -> None:
    baked = baked_tree(bake(tmp_path, **DEFAULTS))
    stored = stored_tree()
    assert stored, f"no snapshot in {SNAPSHOT}: run `make snapshot` and review it"
    if baked != stored:
        raise AssertionError(
            "The default bake differs from tests/snapshots/default. If the change is intended, "
            "run `make snapshot` and commit the reviewed result.\n\n"
            + describe_differences(stored, baked)
        )


def test_only_the_normalised_files_depend_on_where_and_when_the_bake_runs(tmp_path) -> None:
    first = bake_in_subprocess(tmp_path / "first dir", PYTHONHASHSEED="1", TZ="Pacific/Kiritimati")
    second = bake_in_subprocess(tmp_path / "second", PYTHONHASHSEED="2", TZ="America/Adak")
    raw_first, raw_second = raw_tree(first), raw_tree(second)
    assert raw_first.keys() == raw_second.keys()
    differing = sorted(name for name in raw_first if raw_first[name] != raw_second[name])
    assert set(differing) <= NORMALISERS.keys()
    assert baked_tree(first) == baked_tree(second)


def test_git_ignores_no_file_of_the_snapshot() -> None:
    inside = subprocess.run(["git", "rev-parse"], cwd=TEMPLATE, capture_output=True)
    if inside.returncode != 0:
        pytest.skip("the template is not a git checkout here")
    paths = [str(path.relative_to(TEMPLATE)) for path in SNAPSHOT.rglob("*") if path.is_file()]
    done = subprocess.run(
        ["git", "check-ignore", "--stdin", "--no-index"],
        cwd=TEMPLATE,
        input="\n".join(paths),
        capture_output=True,
        text=True,
    )
    assert done.stdout.splitlines() == []


def test_the_snapshot_machinery_reports_every_kind_of_change() -> None:
    stored = {"kept": b"a\nb\n", "gone": b"x\n", "changed": b"one\ntwo\n"}
    baked = {"kept": b"a\nb\n", "added": b"y\n", "changed": b"one\n2\n"}
    report = describe_differences(stored, baked)
    assert "+ new file added\n" in report
    assert "- removed file gone\n" in report
    assert "--- snapshot/changed\n+++ bake/changed\n" in report
    assert "-two\n+2\n" in report
    assert "kept" not in report


def raw_tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def bake_in_subprocess(output_dir: Path, **env: str) -> Path:
    """Bake the defaults with the command-line tool, in this environment plus ``env``."""
    done = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--default-config"]
        + ["--output-dir", str(output_dir), str(TEMPLATE)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return output_dir / DEFAULTS["project_slug"]


def main() -> int:
    """Rewrite the snapshot from a fresh bake of the defaults and list what changed."""
    with tempfile.TemporaryDirectory() as workdir:
        baked = baked_tree(bake(Path(workdir), **DEFAULTS))
    stored = stored_tree()
    write_snapshot(baked)
    changes = [f"  new      {name}" for name in sorted(baked.keys() - stored.keys())]
    changes += [f"  removed  {name}" for name in sorted(stored.keys() - baked.keys())]
    changes += [
        f"  changed  {name}"
        for name in sorted(stored.keys() & baked.keys())
        if stored[name] != baked[name]
    ]
    print("\n".join(changes) if changes else "The snapshot was already up to date.")
    print(f"Snapshot: {len(baked)} files in {SNAPSHOT.relative_to(TEMPLATE)}/; review with")
    print(f"  git diff -- {SNAPSHOT.relative_to(TEMPLATE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
