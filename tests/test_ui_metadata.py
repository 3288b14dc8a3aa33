"""What the UI shows besides the data: descriptions, tags and owners, code references, whole
rejection reasons, and a code load with no warning a user cannot act on."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
from dagster._core.remote_representation.external_data import RepositorySnap

from ecommerce_assets.bronze.assets import bronze_assets
from ecommerce_assets.definitions import defs
from ecommerce_assets.formats import disallowed_type
from ecommerce_assets.quality import markdown_preview
from resources.deployment import build_resources, init_local
from tests.conftest import REPO

LAYERS = {"bronze", "silver", "gold", "embeddings", "marts"}


@pytest.fixture(scope="module")
def snap() -> RepositorySnap:
    """The repository as the webserver reads it."""
    return RepositorySnap.from_def(defs.get_repository_def())


def test_every_asset_and_check_has_a_description(snap: RepositorySnap) -> None:
    assert len(snap.asset_nodes) >= 24 and len(snap.asset_check_nodes or []) >= 60
    blank = [n.asset_key.to_user_string() for n in snap.asset_nodes
             if not (n.description or "").strip()]
    blank += [f"{c.asset_key.to_user_string()}:{c.name}" for c in snap.asset_check_nodes or []
              if not (c.description or "").strip()]
    assert blank == []


def test_assets_carry_filterable_tags_and_owners(snap: RepositorySnap) -> None:
    for node in snap.asset_nodes:
        layer, table = node.asset_key.path
        tags = node.tags or {}
        assert tags.get("layer") == layer in LAYERS, node.asset_key
        assert tags.get("table") == table, node.asset_key
        assert tags.get("domain"), node.asset_key
        assert node.owners and all(o.startswith("team:") for o in node.owners), node.asset_key
    domains = {n.tags["domain"] for n in snap.asset_nodes}
    assert {"orders", "customers", "products", "inventory", "web"} <= domains
    # the tag works as a selection, as in the UI's filter box
    selected = dg.AssetSelection.tag("domain", "customers").resolve(
        defs.get_repository_def().asset_graph)
    assert dg.AssetKey(["gold", "cohort_retention"]) in selected
    assert dg.AssetKey(["silver", "orders"]) not in selected


def test_code_references_point_at_existing_sql_and_python(snap: RepositorySnap) -> None:
    for node in snap.asset_nodes:
        value = node.metadata.get("dagster/code_references")
        assert value is not None, node.asset_key
        refs = value.code_references
        assert refs, node.asset_key
        for ref in refs:
            path = Path(ref.file_path)
            assert path.is_file() and REPO in path.parents, ref
            if ref.line_number:
                assert ref.line_number <= len(path.read_text().splitlines()), ref
        sql_file = node.metadata.get("sql_file")
        if sql_file is not None:  # a SQL table links its SQL first
            assert Path(refs[0].file_path) == REPO / sql_file.value, node.asset_key


# Runs in a fresh interpreter: warnings of a module import are only emitted once per process.
LOAD = """
import json, warnings
import dagster as dg
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import ecommerce_assets.definitions as d
    d.defs.get_repository_def()
print(json.dumps([{"category": w.category.__name__, "file": w.filename,
                   "message": str(w.message)} for w in caught]))
"""
DAGSTER_WARNINGS = {"BetaWarning", "PreviewWarning", "SupersessionWarning"}


def test_loading_the_definitions_emits_no_warning_a_user_cannot_act_on() -> None:
    out = subprocess.run([sys.executable, "-c", LOAD], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout
    caught = json.loads(out.strip().splitlines()[-1])
    # Dagster's own classes, and anything (deprecations included) raised from project code.
    offending = [w for w in caught if w["category"] in DAGSTER_WARNINGS
                 or (".venv" not in w["file"] and "site-packages" not in w["file"])]
    assert offending == []


def test_markdown_preview_keeps_whole_columns_whole() -> None:
    reason = "disallowed type .exe: landing files end in .csv, .jsonl, .json, .parquet"
    table = pa.table({"object_key": ["orders/a.exe"], "reason": [reason], "note": [reason]})
    text = markdown_preview(table, whole=("reason",))
    assert f"| {reason} |" in text
    assert reason[:39] + "…" in text  # other columns are still cut


def test_a_rejected_object_is_named_with_its_whole_reason(ecommerce_home: Path) -> None:
    day = dt.date(2026, 11, 21)
    init_local()
    key = f"orders/date={day}/notes-from-the-shop.exe"
    resources = build_resources("local")
    resources["inbox_store"].write_bytes(key, b"not a landing file\n")
    instance = dg.DagsterInstance.ephemeral()
    orders = dg.AssetKey(["bronze", "orders"])
    result = dg.materialize(bronze_assets, selection=[orders], resources=resources,
                            partition_key=day.isoformat(),
                            instance=instance)
    assert result.success
    reason = disallowed_type(key)
    assert reason and len(reason) > 60  # longer than the 40 characters a preview cell keeps
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any(key in m and reason in m for m in messages), messages
    (objects,) = [e.step_materialization_data.materialization.metadata["objects"].value
                  for e in result.get_asset_materialization_events() if e.asset_key == orders]
    assert key in objects and reason in objects
