"""`ecommerce backfill` against a real `dagster dev`: every README selection, valid titles, the
server's own error message, and the webserver found without --url."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecommerce_assets import backfill as bf
from tests.conftest import REPO, free_port
from tests.dagster_dev import dagster_dev

ECOMMERCE = Path(sys.executable).with_name("ecommerce")
README_SELECTIONS = ['key:"bronze/orders"', "group:bronze", "bronze/orders",
                     "bronze/orders,bronze/order_items", 'key:"bronze/*"']
BACKFILL = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { title assetSelection { path } partitionNames } } }"""


def test_titles_are_valid_for_every_readme_selection() -> None:
    for selection in [*README_SELECTIONS, "group:silver or group:gold", "x" * 150]:
        title = bf.backfill_title(selection, "2026-11-21", "2026-11-24")
        assert not bf.INVALID_TITLE_CHARS.search(title) and len(title) <= 100
        assert title.endswith("2026-11-21...2026-11-24")


def test_the_webserver_is_found_from_the_environment(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert bf.webserver_url({"ECOMMERCE_HOME": str(home)}) == "http://127.0.0.1:3000"
    home.mkdir()
    (home / "webserver.url").write_text("http://127.0.0.1:3123\n")  # what make dev writes
    assert bf.webserver_url({"ECOMMERCE_HOME": str(home)}) == "http://127.0.0.1:3123"
    assert bf.webserver_url({"ECOMMERCE_HOME": str(home), "PORT": "3005"}) == \
        "http://127.0.0.1:3005"
    assert bf.webserver_url({"PORT": "3005", "HOST": "0.0.0.0"}) == "http://127.0.0.1:3005"
    assert bf.webserver_url({"PORT": "3005", "HOST": "my-laptop"}) == "http://127.0.0.1:3005"
    assert bf.webserver_url({"PORT": "3005", "DAGSTER_WEBSERVER_URL": "http://h:9/"}) == "http://h:9"


def test_unpartitioned_or_unknown_selections_are_one_sentence() -> None:
    with pytest.raises(bf.BackfillError, match="silver/orders is not partitioned"):
        bf.asset_keys("bronze/orders+")
    with pytest.raises(bf.BackfillError, match="unknown"):
        bf.asset_keys("bronze/nope,bronze/orders")


def test_no_server_is_one_line_naming_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run([str(ECOMMERCE), "backfill", "2026-11-21", "2026-11-22", "--url", url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    said = [line for line in done.stderr.splitlines() if line.startswith("ecommerce backfill:")]
    assert len(said) == 1 and f"no Dagster webserver answers at {url}" in said[0]


@pytest.mark.slow
def test_backfills_of_every_readme_selection_reach_the_server(tmp_path: Path) -> None:
    with dagster_dev(tmp_path) as dev:
        env = {**os.environ, "DAGSTER_HOME": str(dev.dagster_home),
               "ECOMMERCE_HOME": str(tmp_path / "ecommerce"), "DAGSTER_WEBSERVER_URL": dev.url}
        env.pop("PORT", None)
        for selection in README_SELECTIONS:  # no --url: DAGSTER_WEBSERVER_URL finds it
            done = subprocess.run([str(ECOMMERCE), "backfill", "2024-01-01", "2024-01-02",
                                   "--select", selection], cwd=REPO, env=env,
                                  capture_output=True, text=True, timeout=180)
            assert done.returncode == 0, done.stderr
            backfill_id = done.stdout.split()[1]
            found = dev.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
            assert found["partitionNames"] == ["2024-01-01", "2024-01-02"]
            assert found["title"] == bf.backfill_title(selection, "2024-01-01", "2024-01-02")
            assert {"/".join(a["path"]) for a in found["assetSelection"]} == \
                {"/".join(p) for p in bf.asset_keys(selection)}
        # The server's own reason, not "HTTP Error 500", when it refuses a backfill.
        with pytest.raises(bf.BackfillError) as refused:
            bf.launch(dev.url, [["bronze", "orders"]], ["2024-01-01"], 'a "quoted" title')
        message = str(refused.value)
        assert "is not a valid title" in message and "HTTP Error" not in message
        assert "\n" not in message
        # PORT, as `PORT=… make dev` takes it, finds it too.
        port_env = {**env, "PORT": dev.url.rsplit(":", 1)[1]}
        del port_env["DAGSTER_WEBSERVER_URL"]
        done = subprocess.run([str(ECOMMERCE), "backfill", "2024-01-03", "2024-01-03",
                               "--select", "bronze/users"], cwd=REPO, env=port_env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("backfill ") and dev.url in done.stdout
