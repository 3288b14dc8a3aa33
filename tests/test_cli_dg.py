"""The `dg` CLI (dagster-dg-cli) works in this project: [tool.dg] in pyproject.toml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_data.thelook_ecommerce import seed as seed_cli
from tests.conftest import REPO

DG = Path(sys.executable).with_name("dg")


@pytest.mark.slow
def test_dg_check_defs_and_dg_launch_a_partition(tmp_path: Path, ecommerce_home: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    (tmp_path / "dagster_home").mkdir()
    checked = subprocess.run([str(DG), "check", "defs"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr
    assert "does not match the virtual environment" not in checked.stdout + checked.stderr
    assert seed_cli.main(["--scale", "0.002", "--date", "2026-11-20"]) == 0
    launched = subprocess.run([str(DG), "launch", "--assets", "bronze/distribution_centers",
                               "--partition-range", "2026-11-20...2026-11-20"], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=300)
    assert launched.returncode == 0, launched.stderr[-2000:]
    assert "RUN_SUCCESS" in launched.stdout + launched.stderr
