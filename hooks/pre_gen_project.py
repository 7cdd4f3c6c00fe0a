"""Refuse answers that would bake a broken project: one line per problem, then exit 1.

The answers arrive as JSON (rendered with ``tojson``), so no answer can inject code here.
"""

from __future__ import annotations

import json
import keyword
import re
import sys

CONTEXT = json.loads({{cookiecutter | tojson | tojson}})

PACKAGE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
GITHUB_OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")
NEWLINES = {"\n": "a newline", "\r": "a carriage return"}
# The project name ends up in titles, YAML and TOML; quotes and backslashes have no place there.
NAME_CHARS = {'"': "a double quote", "'": "a quote", "\\": "a backslash", **NEWLINES}
ONE_LINE_FIELDS = ("project_name", "description", "author_name", "author_email", "github_owner")

# Import names of what the generated project depends on (and of the tools it runs): a package
# with one of these names would be shadowed by, or would shadow, the real one.
DEPENDENCIES = frozenset("""
    alembic black click croniter dask distributed dotenv hypothesis isort jinja2 mako markupsafe
    numpy pandas pip pkg_resources playwright pluggy pre_commit pyarrow pydantic pydantic_core
    psycopg psycopg_binary pymysql pytest _pytest pytz pyyaml rich setuptools sqlalchemy
    streamlit tenacity typer
    typing_extensions wheel yaml
    """.split())
# Names the standard library keeps out of sys.stdlib_module_names, and the project's own folders.
RESERVED = {
    "test": "the standard library's regression-test package",
    "tests": "the project's tests/ folder",
    "models": "the project's models/ folder",
    "migrations": "the project's migrations/ folder",
    "benchmarks": "the project's benchmarks/ folder",
}


def package_problems(name: str) -> list[str]:
    """Why ``name`` cannot be the importable package, if it cannot."""
    if not PACKAGE_RE.match(name):
        return [
            f"package_name {name!r} is not a Python package name: use lower-case letters, "
            "digits and underscores, not starting with a digit (e.g. 'sales_pipeline')"
        ]
    if keyword.iskeyword(name):
        return [f"package_name {name!r} is a Python keyword: pick another name"]
    if name in sys.stdlib_module_names:
        return [f"package_name {name!r} shadows the standard library module {name!r}"]
    if name in RESERVED:
        return [f"package_name {name!r} clashes with {RESERVED[name]}: pick another name"]
    if name in DEPENDENCIES:
        return [f"package_name {name!r} shadows the dependency {name!r}: pick another name"]
    return []


def text_problems(context: dict) -> list[str]:
    """Free-text answers must be one line; the project name also has no quotes or backslashes."""
    problems = []
    name = str(context.get("project_name", ""))
    if not name.strip():
        problems.append("project_name is empty: give the project a name")
    for field in ONE_LINE_FIELDS:
        value = str(context.get(field, ""))
        forbidden = NAME_CHARS if field == "project_name" else NEWLINES
        found = [label for char, label in forbidden.items() if char in value]
        if found:
            problems.append(f"{field} {value!r} contains {' and '.join(found)}: remove it")
    return problems


def other_problems(context: dict) -> list[str]:
    """The slug, the e-mail and the GitHub owner must be usable where they are rendered."""
    problems = []
    slug = str(context.get("project_slug", ""))
    if not SLUG_RE.match(slug):
        problems.append(
            f"project_slug {slug!r} is not a folder/distribution name: use lower-case letters, "
            "digits and dashes (e.g. 'sales-pipeline')"
        )
    email = str(context.get("author_email", ""))
    if email and not EMAIL_RE.match(email):
        problems.append(f"author_email {email!r} is not an e-mail address")
    owner = str(context.get("github_owner", ""))
    if not GITHUB_OWNER_RE.match(owner):
        problems.append(
            f"github_owner {owner!r} is not a GitHub user or organisation name: letters, "
            "digits and single dashes, at most 39 characters"
        )
    return problems


def main() -> int:
    problems = text_problems(CONTEXT)
    problems += package_problems(str(CONTEXT.get("package_name", "")))
    problems += other_problems(CONTEXT)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
