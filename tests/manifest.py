"""What a bake must contain, declared here independently of the hooks that produce it.

The expected file set of a bake is the template folder's files with their names rendered,
minus the optional parts whose option is off, minus the licence sources, plus what the
post-generation hook writes. A file the hook forgets to remove, or removes by mistake, or a
file that appears from nowhere, makes the set differ.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[1]
PROJECT_TEMPLATE = TEMPLATE / "{{cookiecutter.project_slug}}"

# Every bake has these, whatever the options.
ALWAYS = frozenset("""
    .cookiecutter.json .cruft.json .dockerignore .env.example .gitattributes .gitignore
    .pre-commit-config.yaml .python-version Dockerfile LICENSE Makefile README.md alembic.ini
    docker-compose.yml docker/mysql/init.sql docker/mysql/initdb.sh docker/postgres/init.sql
    docker/postgres/initdb.sh migrations/env.py requirements.txt requirements-dev.txt scripts/lock.py
    migrations/script.py.mako migrations/versions/0001_run_ledger.py pyproject.toml settings.yml
    src/{pkg}/__init__.py src/{pkg}/errors.py src/{pkg}/settings.py src/{pkg}/db/engine.py
    tests/framework/conftest.py SECURITY.md CONTRIBUTING.md .devcontainer/devcontainer.json
    .devcontainer/docker-compose.yml deploy/kubernetes/cronjob.yaml
    deploy/systemd/{slug}.service deploy/systemd/{slug}.timer
    src/{pkg}/py.typed tests/framework/test_static_checks.py
    """.split())
# Written by the post-generation hook.
ADDED_BY_HOOK = frozenset({".cookiecutter.json", ".cruft.json", ".python-version", "LICENSE"})
ADDED_BY_HOOK |= {"requirements.txt", "requirements-dev.txt"}
# Sources the hook turns into LICENSE and the lock files, never shipped.
DROPPED = ("licenses/*", "locks/*")
# Paths (globs, {pkg} = package name) that exist only when their yes/no option is on.
OPTIONAL = {
    "include_dashboard": (
        "src/{pkg}/dashboard/*",
        "tests/framework/dashboard/*",
        "tests/framework/test_dashboard*.py",
        "benchmarks/bench_dashboard*.py",
        ".streamlit/*",
    ),
    "include_github_actions": (".github/*",),
}
# The only Jinja in file and folder names.
NAME_VARIABLES = {
    "{{cookiecutter.package_name}}": "package_name",
    "{{cookiecutter.project_slug}}": "project_slug",
}
IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis"}


def template_files() -> list[str]:
    """Every file of the project template, as a path relative to it, names unrendered."""
    return sorted(
        path.relative_to(PROJECT_TEMPLATE).as_posix()
        for path in PROJECT_TEMPLATE.rglob("*")
        if path.is_file()
        and not IGNORED_PARTS & set(path.parts)
        and path.suffix not in (".pyc", ".pyo")
    )


def render_name(path: str, context: dict[str, Any]) -> str:
    for variable, key in NAME_VARIABLES.items():
        path = path.replace(variable, str(context[key]))
    return path


def matches(path: str, patterns: tuple[str, ...] | list[str], package: str) -> bool:
    return any(fnmatch.fnmatch(path, pattern.format(pkg=package)) for pattern in patterns)


def expected_files(context: dict[str, Any]) -> set[str]:
    """The exact set of files a bake with these answers must hold."""
    package = context["package_name"]
    off = [
        pattern for option, globs in OPTIONAL.items() if not context[option] for pattern in globs
    ]
    files = {render_name(path, context) for path in template_files()}
    files = {f for f in files if not matches(f, off, package) and not matches(f, DROPPED, package)}
    return files | ADDED_BY_HOOK


def required_files(context: dict[str, Any]) -> set[str]:
    """Files that must be there in any case (guards against an empty template walk)."""
    names = {"pkg": context["package_name"], "slug": context["project_slug"]}
    required = {path.format(**names) for path in ALWAYS}
    if context["include_github_actions"]:
        required |= {".github/workflows/ci.yml", ".github/workflows/nightly.yml"}
        required |= {".github/dependabot.yml", ".github/CODEOWNERS"}
    return required
