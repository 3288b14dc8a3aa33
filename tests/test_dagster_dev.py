"""The quick start's server: a real ``dagster dev`` loads the code location."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.dagster_dev import dagster_dev

LOCATIONS = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name
    locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""


@pytest.mark.slow
def test_dagster_dev_serves_the_code_location(tmp_path: Path) -> None:
    with dagster_dev(tmp_path) as dev:
        deadline = time.monotonic() + 120
        while True:
            entries = dev.graphql(LOCATIONS)["workspaceOrError"]["locationEntries"]
            status = {e["name"]: e["locationOrLoadError"] for e in entries}
            if status.get("ecommerce") and status["ecommerce"]["__typename"] != "PythonError":
                break
            assert time.monotonic() < deadline, status
            time.sleep(1)
        assert status["ecommerce"]["__typename"] == "RepositoryLocation"
        assert (tmp_path / "ecommerce" / "buckets" / "inbox").is_dir()
        pid = dev.process.pid
    # Everything it started is gone once the context exits.
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
