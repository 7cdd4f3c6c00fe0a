"""A finished run's attempts are read once and kept until the run's end time changes: the Run
detail page of a long history does not re-read them every few seconds, and a run finished
again (its end time rewritten) is read afresh. Its own module: it rewrites the seeded ledger."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update
from test_dashboard_pages import assert_clean, table

from {{ cookiecutter.package_name }}.dashboard.data import CACHE_TTL_S
from {{ cookiecutter.package_name }}.db.engine import make_engine
from {{ cookiecutter.package_name }}.db.models import RUNS, TASKS

REWRITTEN = "rewritten after the run"


def test_a_finished_runs_attempts_are_kept_until_its_end_time_changes(open_page, dashboard) -> None:
    app = open_page("run-detail", run=dashboard.ok_run)
    assert_clean(app)
    before = set(table(app, "fingerprint")["reason"])
    assert REWRITTEN not in before
    engine = make_engine(dashboard.database_url)
    try:
        with engine.begin() as conn:
            mine = TASKS.c.run_id == dashboard.ok_run
            conn.execute(update(TASKS).where(mine).values(reason=REWRITTEN))
        time.sleep(CACHE_TTL_S + 0.5)  # past the short cache: only the per-run one can answer
        app.run()
        assert set(table(app, "fingerprint")["reason"]) == before
        with engine.begin() as conn:
            same = RUNS.c.id == dashboard.ok_run
            finished = conn.execute(select(RUNS.c.finished_at).where(same)).scalar_one()
            conn.execute(update(RUNS).where(same).values(finished_at=finished + timedelta(1)))
        time.sleep(CACHE_TTL_S + 0.5)
        app.run()
        assert set(table(app, "fingerprint")["reason"]) == {REWRITTEN}
    finally:
        engine.dispose()
