"""The Dagster UI in a real browser: Playwright drives Debian's Chromium against a real
``dagster dev`` on a seeded home.

One landing day is seeded and materialized through ``dagster asset materialize`` (as
``make seed`` does, before the server starts, so the UI shows history), then the browser
dismisses the first-visit dialog, finds every asset group in the lineage graph, opens a
bronze asset's partitions, opens the cohort heatmap's image on its gold asset page, and
launches a materialization by clicking Materialize, which must succeed. Screenshots of each
step go to the folder the test prints (``ECOMMERCE_SCREENSHOTS``, else pytest's tmp_path).

Playwright's own browser download is not reachable here: the test uses Debian's
``chromium`` package (``.ci/run`` installs it when missing) and fails, not skips, without it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import REPO
from tests.dagster_dev import DagsterDev, dagster_dev

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
TODAY = dt.datetime.now(dt.UTC).date().isoformat()
UI_TIMEOUT_MS = 30_000  # one page or element: the first load compiles nothing, but CPU is shared
RUN_TIMEOUT_MS = 120_000  # the launched run: a queued run waits for the warehouse pool slot
HEATMAP_ASSET = "gold/cohort_retention"
BRONZE_ASSET = "bronze/orders"
GROUPS = "{ assetNodes { groupName } }"
RUN_STATUS = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"


def seed(tmp_path: Path) -> None:
    """A tiny home in the layout ``dagster_dev`` uses: one seeded day, its bronze partition,
    then silver, gold and embeddings, recorded in DAGSTER_HOME's run storage."""
    env = {**os.environ, "ECOMMERCE_HOME": str(tmp_path / "ecommerce"),
           "DAGSTER_HOME": str(tmp_path / "dagster_home"), "ECOMMERCE_INBOX_SETTLE_S": "0",
           # The instance file arrives with dagster_dev; until then keep telemetry off.
           "DAGSTER_DISABLE_TELEMETRY": "1"}
    (tmp_path / "dagster_home").mkdir(parents=True, exist_ok=True)
    dagster = str(Path(sys.executable).with_name("dagster"))
    steps = [
        [sys.executable, "test_data/thelook_ecommerce/seed.py", "--scale", "0.003",
         "--date", TODAY],
        [dagster, "asset", "materialize", "-m", "ecommerce_assets.definitions",
         "--select", "group:bronze", "--partition", TODAY],
        [dagster, "asset", "materialize", "-m", "ecommerce_assets.definitions",
         "--select", "group:silver or group:gold or group:embeddings"],
    ]
    for step in steps:
        done = subprocess.run(step, cwd=REPO, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(step[1:4])} failed:\n{done.stdout[-3000:]}" \
                                     f"\n{done.stderr[-3000:]}"


@pytest.fixture
def screenshots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    folder = Path(os.environ.get("ECOMMERCE_SCREENSHOTS", tmp_path / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    with capsys.disabled():
        print(f"\ntest_browser: screenshots in {folder}")
    return folder


@pytest.fixture
def browser_page(screenshots: Path) -> Iterator[Page]:
    """A Chromium page that dismisses Dagster's first-visit dialog whenever it shows up."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's package "
                    "(apt-get install chromium; .ci/run does it) or set CHROMIUM=/path/to/it")
    with sync_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT_MS)
            # Should the first-visit dialog come back on some page, dismiss it before any
            # action it would cover.
            page.add_locator_handler(page.get_by_role("button", name="Skip", exact=True),
                                     lambda skip: skip.click())
            yield page
        finally:
            browser.close()


@contextlib.contextmanager
def screenshot_on_failure(page: Page, shots: Path) -> Iterator[None]:
    """What the browser showed when a step failed, next to the steps' own screenshots."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            page.screenshot(path=shots / "failure.png", full_page=True)
        raise


def dismiss_first_visit_dialog(page: Page, dev: DagsterDev) -> None:
    """A fresh instance greets the first page load with a community/newsletter dialog (after
    a second's delay); Skip records it as seen, so it stays away on later pages."""
    page.goto(dev.url)
    skip = page.get_by_role("button", name="Skip", exact=True)
    with contextlib.suppress(PlaywrightTimeout):  # a release without the dialog is fine too
        skip.wait_for(timeout=10_000)
    if skip.is_visible():
        # The page's locator handler (browser_page) may win the race and click Skip first;
        # then this click finds no button: either way the dialog goes.
        with contextlib.suppress(PlaywrightTimeout):
            skip.click(timeout=5_000)
        expect(page.get_by_text("Join the Dagster community")).to_be_hidden()


def see_every_group(page: Page, dev: DagsterDev, shots: Path) -> None:
    expected = {n["groupName"] for n in dev.graphql(GROUPS)["assetNodes"]}
    assert {"bronze", "silver", "gold", "embeddings"} <= expected, expected
    page.goto(f"{dev.url}/asset-groups")
    graph = page.locator("svg foreignObject")  # the graph's nodes, not the sidebar's tree
    for group in sorted(expected):
        expect(graph.get_by_text(group, exact=True).first).to_be_visible()
    page.screenshot(path=shots / "1-lineage.png")


def see_bronze_partitions(page: Page, dev: DagsterDev, shots: Path) -> None:
    page.goto(f"{dev.url}/assets/{BRONZE_ASSET}")
    page.get_by_role("tab", name="Partitions").click()
    expect(page.get_by_text("Materialized (1)")).to_be_visible()
    expect(page.get_by_text(TODAY).first).to_be_visible()
    page.screenshot(path=shots / "2-bronze-partitions.png")


def see_heatmap(page: Page, dev: DagsterDev, shots: Path) -> None:
    page.goto(f"{dev.url}/assets/{HEATMAP_ASSET}")
    # The image is a Markdown metadata value: the table shows a link that opens it.
    page.get_by_text("[Show Markdown]").click()
    image = page.get_by_role("img", name="cohort retention heatmap")
    dialog = page.get_by_role("dialog").filter(has=image)
    expect(image).to_be_visible()
    width = image.evaluate("img => img.complete ? img.naturalWidth : 0")
    assert width > 100, f"the heatmap image did not decode (naturalWidth {width})"
    dialog.screenshot(path=shots / "3-heatmap.png")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def materialize_by_click(page: Page, dev: DagsterDev, shots: Path) -> None:
    page.goto(f"{dev.url}/assets/{HEATMAP_ASSET}")
    # The button's accessible name starts with its icon's ligature ("materialization").
    page.get_by_role("button", name=re.compile(r"\bMaterialize$")).click()
    toast = page.get_by_text(re.compile(r"^Launched run \w+$"))
    short_id = toast.inner_text().split()[-1]
    page.locator(f'a[href^="/runs/{short_id}"]').click()  # the toast's "View"
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}"))
    run_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    status = page.get_by_text(re.compile(r"^(Success|Failure|Canceled)$")).first
    expect(status).to_be_visible(timeout=RUN_TIMEOUT_MS)
    page.screenshot(path=shots / "4-run.png")
    assert status.inner_text() == "Success", f"run {run_id}: {status.inner_text()}"
    # What the page says is what the instance recorded.
    recorded = dev.graphql(RUN_STATUS, {"id": run_id})["runOrError"]["status"]
    assert recorded == "SUCCESS", f"run {run_id} is {recorded} in the instance"


@pytest.mark.slow
def test_the_ui_in_a_real_browser(tmp_path: Path, screenshots: Path,
                                  browser_page: Page) -> None:
    seed(tmp_path)
    with dagster_dev(tmp_path) as dev, screenshot_on_failure(browser_page, screenshots):
        dismiss_first_visit_dialog(browser_page, dev)
        see_every_group(browser_page, dev, screenshots)
        see_bronze_partitions(browser_page, dev, screenshots)
        see_heatmap(browser_page, dev, screenshots)
        materialize_by_click(browser_page, dev, screenshots)
