"""The console of a normal start: `make dev`'s command on a seeded home prints no warning
(no SupersessionWarning for the start command, no "will not be used" for a dagster.yaml in
the project folder, no BetaWarning or deprecation at code load)."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest

from ecommerce_assets.bronze.assets import bronze_assets
from resources.deployment import build_resources
from resources.instance import skip_seed_history
from test_data.thelook_ecommerce import generate as generate_cli
from test_data.thelook_ecommerce import seed as seed_cli
from tests.dagster_dev import LOCAL_INSTANCE, dagster_dev

BRONZE_DISTRIBUTION_CENTERS = dg.AssetKey(["bronze", "distribution_centers"])
ANSI = re.compile(r"\x1b\[[0-9;]*m")
WARNING = re.compile(r"Warning\b|\bWARNING\b|will not be used")


@pytest.mark.slow
def test_a_normal_start_prints_no_warning(
        tmp_path: Path, ecommerce_home: Path) -> None:
    assert ecommerce_home == tmp_path / "ecommerce"  # the home dagster_dev serves
    assert seed_cli.main(["--scale", "0.002", "--date", "2026-11-20"]) == 0
    assert generate_cli.main(["--date", "2026-11-21", "--rows", "20"]) == 0
    # The seed's runs are in the instance before its first start, as after `make seed`.
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(LOCAL_INSTANCE, dagster_home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert dg.materialize(bronze_assets, selection=[BRONZE_DISTRIBUTION_CENTERS], partition_key="2026-11-20",
                              resources=build_resources("local"), instance=instance).success
        skip_seed_history(instance)
    with dagster_dev(tmp_path) as dev:
        time.sleep(15)  # the daemon and the code server log their start after the webserver
        console = ANSI.sub("", dev.log())  # colored levels: "\x1b[34mWARNING" has no \b
    assert "Serving dagster-webserver" in console
    assert "SupersessionWarning" not in console
    assert "will not be used" not in console
    remaining = sorted({line.strip() for line in console.splitlines() if WARNING.search(line)})
    assert remaining == [], "\n".join(remaining[:20])
