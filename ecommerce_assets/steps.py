"""What the layers' multi-asset steps share (bronze, silver and gold each run their tables
as one step; see docs/ARCHITECTURE.md, "One step per layer"). :func:`computed_ahead` also
reads bronze's batches ahead of the cleaning."""

from __future__ import annotations

import contextlib
import contextvars
import queue
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import TypeVar

import dagster as dg

T = TypeVar("T")


class StepLog:
    """What a layer's step did, table by table, logged as one message when the step ends:
    every log message is an event-log write (about 15 ms), and a step of seven tables would
    write seven. Warnings and errors are logged apart, at their own level. The tables may be
    computed in another thread (:func:`computed_ahead`): lines are only collected there, and
    logged from the step's thread."""

    def __init__(self, context: dg.AssetExecutionContext, title: str) -> None:
        self.context, self.title = context, title
        self.lines: list[str] = []
        self.warnings: list[str] = []
        self.errors: list[str] = []

    def __enter__(self) -> StepLog:
        return self

    def __exit__(self, *exc: object) -> None:
        for text in self.errors:
            self.context.log.error(text)
        if self.warnings:
            self.context.log.warning("\n".join(self.warnings))
        if self.lines:
            self.context.log.info("\n".join([self.title, *self.lines]))

    def add(self, line: str) -> None:
        self.lines.append(line)

    def warn(self, line: str) -> None:
        self.warnings.append(line)

    def error(self, text: str) -> None:
        """An error with the traceback of the exception being handled, if any."""
        handling = sys.exc_info()[1] is not None
        self.errors.append(f"{text}\n{traceback.format_exc()}" if handling else text)


def for_asset(results: list[dg.AssetCheckResult], key: dg.AssetKey,
              selected: set[dg.AssetCheckKey]) -> list[dg.AssetCheckResult]:
    """The ``results`` of asset ``key`` that the run selected (a run may materialize an asset
    without its checks), each naming its asset: a step of several assets must say which."""
    return [r._replace(asset_key=key) for r in results
            if dg.AssetCheckKey(key, r.check_name) in selected]


def computed_ahead(produce: Callable[[], Iterator[T]], depth: int = 1) -> Iterator[T]:
    """The items of ``produce()``, each computed in a worker thread while the caller handles
    the one before.

    A layer step yields each table's result to Dagster, which writes its events (a step
    output and a materialization or check evaluation each, about 10 ms of Python apiece)
    before it asks for the next table. Computing the next table meanwhile (its SQL runs in
    the warehouse, which releases the GIL) overlaps the two instead of adding them up.
    ``produce`` runs entirely in the worker, so a warehouse session it opens belongs to that
    thread, and in a copy of the caller's context variables, so what asks for the running
    step finds it (Dagster's current context: the BigQuery warehouse labels and costs its
    jobs by asset with it). An exception it raises is raised here, after the items before
    it. At most ``depth`` items wait between the two. If the caller stops early, the worker
    finishes the item in hand, then what ``produce`` returned is closed there."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        items = produce()
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((end, None))
        except BaseException as exc:  # handed to the caller's thread
            put((end, exc))
        finally:
            if close := getattr(items, "close", None):  # a generator; any iterator will do
                close()

    worker = threading.Thread(target=contextvars.copy_context().run, args=(work,),
                              name="layer-step-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = handoff.get()
            if item is end:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                handoff.get(timeout=0.1)
        worker.join()
