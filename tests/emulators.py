"""pytest fixtures: both Google Cloud API emulators (fake-gcs-server + bqemulator).

``emulators`` starts them once per session and always stops them, children included
(:func:`ecommerce_assets.emulators.running_emulators`); ``gcp_env`` points one test's
``gcp`` deployment at them, with its own dataset prefix so tests do not see each other's
tables.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from ecommerce_assets.emulators import running_emulators

_prefixes = itertools.count()


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of the gcp deployment on the running emulators."""
    with running_emulators(tmp_path_factory.mktemp("emulators")) as env:
        yield env


@pytest.fixture
def gcp_env(emulators: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``emulators`` set in this test's environment, with a fresh dataset prefix and
    bucket prefixes of its own."""
    n = next(_prefixes)
    env = {**emulators, "ECOMMERCE_BQ_DATASET_PREFIX": f"t{n}_"}
    for key in [k for k in env if k.endswith("_URI")]:
        env[key] = f"{env[key]}/t{n}"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
