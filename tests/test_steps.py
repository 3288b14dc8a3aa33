"""ecommerce_assets/steps.py: what the layer steps share."""

from __future__ import annotations

import contextvars
import logging
import threading
import types
from collections.abc import Iterator

import pytest

from ecommerce_assets.steps import StepLog, computed_ahead


def test_items_come_in_order_each_computed_in_another_thread_ahead_of_the_caller() -> None:
    caller = threading.get_ident()
    computed: list[int] = []

    def produce() -> Iterator[tuple[int, int]]:
        for i in range(4):
            computed.append(i)
            yield i, threading.get_ident()

    seen = []
    for i, thread in computed_ahead(produce):
        assert thread != caller
        if i == 1:  # the caller handles item 1: item 2 is computed meanwhile
            for _ in range(200):
                if 2 in computed:
                    break
                threading.Event().wait(0.01)
            assert 2 in computed
        seen.append(i)
    assert seen == [0, 1, 2, 3]


def test_an_error_of_the_producer_is_raised_after_the_items_before_it() -> None:
    def produce() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("table 3 failed")

    seen = []
    with pytest.raises(ValueError, match="table 3 failed"):
        for item in computed_ahead(produce):
            seen.append(item)
    assert seen == [1, 2]


def test_a_caller_that_stops_early_closes_the_producer_in_its_own_thread() -> None:
    closed_in: list[int] = []

    def produce() -> Iterator[int]:
        try:
            yield from range(100)
        finally:  # a warehouse session opened here closes here
            closed_in.append(threading.get_ident())

    items = computed_ahead(produce)
    assert next(items) == 0
    items.close()  # as Dagster stops a step that failed or was terminated
    assert len(closed_in) == 1 and closed_in[0] != threading.get_ident()


RUNNING = contextvars.ContextVar("running", default=None)


def test_the_producer_sees_the_callers_context_variables() -> None:
    """Dagster's current step context is a context variable: the BigQuery warehouse reads it
    to label and cost its jobs by asset."""
    def produce() -> Iterator[str | None]:
        yield RUNNING.get()

    token = RUNNING.set("silver_tables")
    try:
        assert list(computed_ahead(produce)) == ["silver_tables"]
    finally:
        RUNNING.reset(token)


def test_a_step_log_gives_an_error_the_traceback_of_the_exception_being_handled() -> None:
    """Only while an exception is handled: an error reported outside ``except`` is its
    text alone (no "NoneType: None" line)."""
    records: list[tuple[int, str]] = []
    logger = logging.getLogger("test_step_log")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler := logging.Handler())
    handler.emit = lambda record: records.append((record.levelno, record.getMessage()))
    try:
        with StepLog(types.SimpleNamespace(log=logger), "silver") as step:
            step.add("orders: 3 rows")
            step.error("a plain error")
            try:
                raise ValueError("bad row")
            except ValueError:
                step.error("while loading orders")
    finally:
        logger.removeHandler(handler)
    assert records[0] == (logging.ERROR, "a plain error")
    assert records[1][0] == logging.ERROR
    assert records[1][1].startswith("while loading orders\nTraceback")
    assert "ValueError: bad row" in records[1][1]
    assert records[2] == (logging.INFO, "silver\norders: 3 rows")
