"""The dashboard in a real browser: the CLI starts Streamlit on 127.0.0.1, headless Chromium
visits every page, checks what it says and saves a 1280x800 screenshot of each.

Screenshots go to ``$DASHBOARD_ARTIFACTS`` when set (CI uploads that folder), else to
``artifacts/`` in pytest's temporary directory. Without Chromium or Playwright the test is
skipped, unless ``REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

PACKAGE = "{{ cookiecutter.package_name }}"
SRC = Path(__file__).resolve().parents[3] / "src"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
START_TIMEOUT_S = 60

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _require_browser() -> None:
    """Skip without a browser, or fail when REQUIRE_BROWSER=1 says there must be one."""
    problem = None
    if not Path(CHROMIUM).is_file():
        problem = f"no Chromium at {CHROMIUM} (install Debian's chromium or set CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = problem or "Playwright for Python is not installed (pip install playwright)"
    if problem is None:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {problem}")
    pytest.skip(problem)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("DASHBOARD_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.getbasetemp() / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(seeded, tmp_path: Path) -> Iterator[str]:
    """``<package> dashboard --port N`` on the seeded project; yields its base URL."""
    _require_browser()
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": seeded.database_url,
        "PIPELINE_SETTINGS": str(seeded.root / "settings.yml"),
        "PYTHONPATH": str(SRC),
    }
    log = (tmp_path / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", PACKAGE, "dashboard", "--port", str(port)],
        cwd=seeded.root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base, process, tmp_path / "streamlit.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_until_healthy(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the dashboard exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the dashboard did not answer within {START_TIMEOUT_S} s:\n{log.read_text()}")


def _expect(page, *texts: str) -> None:
    for text in texts:
        visible = page.get_by_text(text, exact=False).locator("visible=true").first
        visible.wait_for(state="visible", timeout=30_000)


def _settle(page) -> None:
    """Wait until Streamlit has finished running the script and charts have drawn."""
    page.wait_for_load_state("networkidle")
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=30_000)
    page.wait_for_timeout(800)


@contextmanager
def browser_page() -> Iterator[Any]:
    """A 1280x800 page in Debian's headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport=VIEWPORT)
        finally:
            browser.close()


def test_every_page_in_a_real_browser(server: str, seeded, artifacts: Path) -> None:
    backend = "mysql" if seeded.dashboard_url else "sqlite"
    failed = seeded.failed_run
    visits = [
        ("overview", None, ["Latest runs", f"Failing tasks of the last run ({failed})"]),
        ("runs", "Runs", ["Rows 1–2 of 2", "Includes task"]),
        ("run-detail", f"/run-detail?run={failed}", [f"Run {failed}", "Errors (2)", "score_teams"]),
        ("dag", "DAG", ["Focus on a task", "publish_scores"]),
        ("tables", "Tables", ["Download this page as CSV", "tables and views", "Rows 1–"]),
        ("ingest", "Ingest", ["Rows rejected", "Rejected rows"]),
    ]
    shots = []
    with browser_page() as page:
        page.goto(server)
        for name, how, texts in visits:
            if how and how.startswith("/"):
                page.goto(server + how)
            elif how:  # through the sidebar, as a person would
                page.get_by_test_id("stSidebarNav").get_by_text(how, exact=True).click()
            shot = artifacts / f"dashboard-{backend}-{name}.png"
            try:
                _expect(page, *texts)
                _settle(page)
                assert page.get_by_test_id("stException").count() == 0, f"traceback on {name}"
            finally:
                page.screenshot(path=str(shot))  # on failure too: it shows what went wrong
            shots.append(shot)
    assert all(shot.stat().st_size > 10_000 for shot in shots)


def test_selecting_a_run_in_the_runs_table_opens_it(server: str, seeded) -> None:
    with browser_page() as page:
        page.goto(f"{server}/runs")
        _expect(page, "Rows 1–2 of 2")
        _settle(page)
        grid = page.get_by_test_id("stDataFrame").first.bounding_box()
        # The grid is drawn on a canvas: click the first row's selection box by position.
        page.mouse.click(grid["x"] + 16, grid["y"] + 35 + 17)
        _expect(page, f"Run {seeded.failed_run}", "Errors (2)")
        assert page.url.endswith(f"/run-detail?run={seeded.failed_run}")


# Every metric card label or value that is cut: some element in it is wider than its box.
_CUT_LABELS = """() => Array.from(document.querySelectorAll(
    '[data-testid="stMetricLabel"], [data-testid="stMetricValue"]'))
  .filter(label => label.offsetParent !== null)
  .filter(label => [label, ...label.querySelectorAll('*')]
    .some(node => node.scrollWidth > node.clientWidth + 1))
  .map(label => label.innerText)"""


def test_card_labels_and_values_are_whole_at_1280x800(server: str, seeded) -> None:
    pages = {
        "overview": ["Latest runs"],
        f"run-detail?run={seeded.failed_run}": ["Errors (2)"],
        "ingest": ["Rejected rows"],
        "tables": ["Download this page as CSV"],
    }
    cut = {}
    with browser_page() as page:
        for path, texts in pages.items():
            page.goto(f"{server}/{path}")
            _expect(page, *texts)
            _settle(page)
            assert page.get_by_test_id("stMetricLabel").count() > 0, path
            cut[path] = page.evaluate(_CUT_LABELS)
    assert not any(cut.values()), f"cards cut at 1280 px: {cut}"
