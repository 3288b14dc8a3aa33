"""The Dagster instance of the embedded default, as ``make dev`` prepares it."""

from __future__ import annotations

import dagster as dg


def skip_seed_history(instance: dg.DagsterInstance | None = None) -> None:
    """Start the run-retry daemon's cursors (``run_retries`` in deploy/dagster.local.yaml)
    after the runs already in the event log, such as the seed's.

    With no cursor the daemon starts there by itself, but says so with a WARNING on the
    first start of every fresh instance ("No cursor for event type …, ignoring older
    events"): a line the user can do nothing about. Setting the cursors is what its first
    tick would do. ``tests/test_console.py`` fails if a Dagster release moves them.
    """
    from dagster._daemon.auto_run_reexecution.event_log_consumer import (
        DAGSTER_EVENT_TYPES,
        _persist_cursors,
    )

    instance = instance or dg.DagsterInstance.get()
    newest = instance.event_log_storage.get_maximum_record_id() or 0
    _persist_cursors(instance, dict.fromkeys(DAGSTER_EVENT_TYPES, newest))
