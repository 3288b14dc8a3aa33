"""The console of a normal start: `make dev`'s command on a seeded home prints no warning
(no SupersessionWarning for the start command, no "will not be used" for a dagster.yaml in
the project folder, no BetaWarning or deprecation at code load)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from test_data.thelook_ecommerce import generate as generate_cli
from test_data.thelook_ecommerce import seed as seed_cli
from tests.dagster_dev import dagster_dev

WARNING = re.compile(r"Warning\b|\bWARNING\b|will not be used")


@pytest.mark.slow
def test_a_normal_start_prints_no_warning(
        tmp_path: Path, ecommerce_home: Path) -> None:
    assert ecommerce_home == tmp_path / "ecommerce"  # the home dagster_dev serves
    assert seed_cli.main(["--scale", "0.002", "--date", "2026-11-20"]) == 0
    assert generate_cli.main(["--date", "2026-11-21", "--rows", "20"]) == 0
    with dagster_dev(tmp_path) as dev:
        time.sleep(15)  # the daemon and the code server log their start after the webserver
        console = dev.log()
    assert "Serving dagster-webserver" in console
    assert "SupersessionWarning" not in console
    assert "will not be used" not in console
    remaining = sorted({line.strip() for line in console.splitlines() if WARNING.search(line)})
    assert remaining == [], "\n".join(remaining[:20])
