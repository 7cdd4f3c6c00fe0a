"""What a user sees when checks refuse a build: `python -m <package> run` exits 1, prints the
refused check, the unchanged published version and where the rejected build is; readers of the
table still get the old rows."""

from __future__ import annotations

from audit_support import MODELS, Database, configure, write_project
from engine_support import cli, migrated

from {{ cookiecutter.package_name }}.settings import Settings

__all__ = ["migrated"]


def test_run_exits_1_and_says_the_published_table_was_left_unchanged(migrated: Settings) -> None:
    write_project(migrated, MODELS, "[row_count(min=3)]")
    db = Database(migrated)
    try:
        configure(migrated, team_report={"lo": 1, "hi": 20})
        first = cli(migrated, "run")
        assert first.returncode == 0, first.stdout + first.stderr
        before = db.rows("team_report")

        configure(migrated, team_report={"lo": 1, "hi": 2})
        refused = cli(migrated, "run")

        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert db.rows("team_report") == before  # readers still see the 20 checked rows
        shown = refused.stdout + refused.stderr
        assert (
            "team_report: 1 check failed (row_count(min=3): 2 rows); published table unchanged "
            "(version 1); the rejected build is in team_report__rejected"
        ) in " ".join(shown.split())
        assert "upstream_failed" in shown or "upstream 'team_report' failed" in shown
        assert "Traceback" not in shown
        summary = shown[shown.index("failed tasks:") :]
        assert "  team_report: 1 check failed (row_count" in summary  # the name said once
        assert db.rows("team_report__rejected") == [(1, 10), (2, 20)]
    finally:
        db.engine.dispose()
