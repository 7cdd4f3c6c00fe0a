"""Finish the baked project: drop the parts not chosen, record the answers, say what is next.

Runs inside the new project folder. Makes no network call: the template's commit is read from
its local git checkout, when there is one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

CONTEXT = json.loads({{cookiecutter | tojson | tojson}})
PACKAGE = CONTEXT["package_name"]

# What each yes/no option brings; answering "no" removes these paths (globs allowed).
OPTIONAL_PARTS = {
    "include_dashboard": [
        f"src/{PACKAGE}/dashboard",
        "tests/framework/dashboard",
        "tests/framework/test_dashboard*.py",
        "benchmarks/bench_dashboard*.py",
        ".streamlit",
    ],
    "include_github_actions": [".github"],
}
LICENSES_DIR = "licenses"
# One pair of lock files per set of requirements the answers can give (see lock_variant).
LOCKS_DIR = "locks"
LOCK_FILES = ("requirements.txt", "requirements-dev.txt")
EXECUTABLES = ["docker/mysql/initdb.sh", "docker/postgres/initdb.sh", "scripts/*.sh"]
REMOTE_PREFIXES = ("gh:", "gl:", "bb:", "git@", "git+", "https://", "http://", "ssh://", "file://")
ABBREVIATIONS = {
    "gh:": "https://github.com/",
    "gl:": "https://gitlab.com/",
    "bb:": "https://bitbucket.org/",
    "git+": "",  # cookiecutter's "git+<url>" means a git repository; git itself wants the bare URL
}


def chosen(option: str) -> bool:
    """A yes/no answer (a JSON boolean, or its text when given on the command line)."""
    value = CONTEXT.get(option)
    return value is True or str(value).strip().lower() in ("1", "true", "y", "yes", "on")


def remove_unselected(root: Path) -> None:
    """Delete the optional parts whose option was answered "no"."""
    for option, patterns in OPTIONAL_PARTS.items():
        if chosen(option):
            continue
        for pattern in patterns:
            for path in sorted(root.glob(pattern)):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()


def install_license(root: Path) -> None:
    """Keep the chosen licence as LICENSE and drop the others."""
    licenses = root / LICENSES_DIR
    picked = licenses / f"{CONTEXT['license']}.txt"
    shutil.copyfile(picked, root / "LICENSE")
    shutil.rmtree(licenses)


def lock_variant() -> str:
    """Which locks fit: PostgreSQL adds a driver, the dashboard an extra. SQLite and MySQL bakes
    declare the same requirements, and each lock is universal, so serves every Python offered."""
    database = "postgresql" if CONTEXT["database"] == "postgresql" else "core"
    return database + ("-dashboard" if chosen("include_dashboard") else "")


def install_locks(root: Path) -> None:
    """Keep the lock files resolved for these answers at the root and drop the others."""
    locks = root / LOCKS_DIR
    for name in LOCK_FILES:
        shutil.copyfile(locks / lock_variant() / name, root / name)
    shutil.rmtree(locks)


def make_executable(root: Path) -> None:
    """Shell scripts keep their exec bit even when the template came through a zip or Windows."""
    for pattern in EXECUTABLES:
        for path in root.glob(pattern):
            path.chmod(path.stat().st_mode | 0o111)


def write_python_version(root: Path) -> None:
    """``.python-version`` for pyenv/uv; written here because, kept in the template folder, it
    would make pyenv refuse to run Python inside that folder."""
    (root / ".python-version").write_text(f"{CONTEXT['python_version']}\n", encoding="utf-8")


def answers() -> dict:
    """The answers given (derived ones included), without cookiecutter's private keys."""
    return {key: value for key, value in CONTEXT.items() if not key.startswith("_")}


def template_location() -> tuple[str, str | None]:
    """Where the template came from (URL or absolute path) and its git commit, if known."""
    template = str(CONTEXT.get("_template", ""))
    repo_dir = str(CONTEXT.get("_repo_dir", ""))
    for prefix, url in ABBREVIATIONS.items():
        if template.startswith(prefix):
            template = url + template[len(prefix) :]
    if not template.startswith(REMOTE_PREFIXES) and not template.endswith(".zip"):
        repo_dir = template = str(local_template_dir(template))
    return template, git_commit(repo_dir)


def local_template_dir(template: str) -> Path:
    """The absolute template folder; cookiecutter runs hooks from inside it (parent's cwd)."""
    path = Path(template)
    if path.is_absolute():
        return path
    parent_cwd = Path(f"/proc/{os.getppid()}/cwd")
    if parent_cwd.exists():
        return parent_cwd.resolve()
    return path


def git_commit(folder: str) -> str | None:
    """HEAD of a local git checkout, read without touching the network."""
    if not folder or not Path(folder).is_dir():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", folder, "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and len(commit) == 40 else None


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_answers(root: Path) -> None:
    """``.cookiecutter.json`` re-bakes with ``--config-file``; ``.cruft.json`` serves cruft."""
    template, commit = template_location()
    write_json(root / ".cookiecutter.json", {"default_context": answers()})
    if "_commit" in CONTEXT:
        # cruft is baking (create, diff, update): it writes .cruft.json itself, and one written
        # here would show up in its diffs with the template's HEAD instead of the baked commit.
        return
    context = {**answers(), "_template": template, "_commit": commit}
    cruft = {
        "template": template,
        "commit": commit,
        "checkout": CONTEXT.get("_checkout"),
        "context": {"cookiecutter": context},
        "directory": None,
    }
    write_json(root / ".cruft.json", cruft)


def next_steps() -> str:
    slug = CONTEXT["project_slug"]
    lines = [f"Created {slug}/. Next:", f"  cd {slug}"]
    if CONTEXT["database"] == "mysql":
        lines.append("  make db-up        # MySQL 8 in docker compose (settings in .env)")
    if CONTEXT["database"] == "postgresql":
        lines.append("  make db-up        # PostgreSQL 17 in docker compose (settings in .env)")
    lines += [
        "  make install      # .venv with the project and its dev tools",
        "  make run          # migrate the database, then run the example DAG",
    ]
    if chosen("include_dashboard"):
        lines.append("  make dashboard    # runs and tables in the browser")
    lines += ["  make help         # every other command", "Then: git init && git add -A"]
    return "\n".join(lines)


def main() -> int:
    root = Path.cwd()
    remove_unselected(root)
    install_license(root)
    install_locks(root)
    make_executable(root)
    write_python_version(root)
    write_answers(root)
    if "_commit" not in CONTEXT:  # cruft's own bakes feed `cruft diff` output: no advice there
        print(next_steps())
    return 0


if __name__ == "__main__":
    sys.exit(main())
