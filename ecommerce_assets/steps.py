"""What the layers' multi-asset steps share (bronze, silver and gold each run their tables
as one step; see docs/ARCHITECTURE.md, "One step per layer")."""

from __future__ import annotations

import dagster as dg


class StepLog:
    """What a layer's step did, table by table, logged as one message when the step ends:
    every log message is an event-log write (about 15 ms), and a step of seven tables would
    write seven."""

    def __init__(self, context: dg.AssetExecutionContext, title: str) -> None:
        self.context, self.title, self.lines = context, title, []

    def __enter__(self) -> StepLog:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.lines:
            self.context.log.info("\n".join([self.title, *self.lines]))

    def add(self, line: str) -> None:
        self.lines.append(line)


def for_asset(results: list[dg.AssetCheckResult], key: dg.AssetKey,
              selected: set[dg.AssetCheckKey]) -> list[dg.AssetCheckResult]:
    """The ``results`` of asset ``key`` that the run selected (a run may materialize an asset
    without its checks), each naming its asset: a step of several assets must say which."""
    return [r._replace(asset_key=key) for r in results
            if dg.AssetCheckKey(key, r.check_name) in selected]
