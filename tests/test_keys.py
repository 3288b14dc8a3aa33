"""Identifiers from outside are validated before they reach a path or SQL."""

from __future__ import annotations

import pytest

from resources.keys import (
    InvalidIdentifierError,
    InvalidKeyError,
    is_valid_key,
    quote_identifier,
    validate_identifier,
    validate_key,
)


@pytest.mark.parametrize("key", [
    "orders/date=2026-11-20/batch_0001.csv",
    "events/date=2026-11-20/seed_events_000.csv.gz",
    "users/file.v2+final.jsonl",
    "a",
])
def test_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", [
    "", "/etc/passwd", "../secrets", "orders/../../x", "orders/./x.csv", "orders//x.csv",
    "orders\\x.csv", "orders/x y.csv", "orders/x;rm -rf.csv", "orders/.hidden",
    "orders/x.csv/", "orders/\x00.csv", "a" * 1025, "orders/é.csv", "orders/x'.csv",
])
def test_invalid_keys(key: str) -> None:
    with pytest.raises(InvalidKeyError):
        validate_key(key)
    assert not is_valid_key(key)


def test_prefixes() -> None:
    assert validate_key("", allow_prefix=True) == ""
    assert validate_key("orders/date=2026-11-20/", allow_prefix=True)
    with pytest.raises(InvalidKeyError):
        validate_key("../", allow_prefix=True)


@pytest.mark.parametrize("name", ["bronze.orders", "ops.file_registry", "orders", "p.s.t"])
def test_valid_identifiers(name: str) -> None:
    assert validate_identifier(name) == name


@pytest.mark.parametrize("name", [
    "bronze.orders; DROP TABLE x", "Bronze.Orders", "bronze.", "1table", "a.b.c.d",
    "bronze.order-items", "bronze.\"x\"", "",
])
def test_invalid_identifiers(name: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        validate_identifier(name)


@pytest.mark.parametrize("key", ["a/x\n", "x\n", "orders/a.csv\r"])
def test_line_breaks_are_rejected(key: str) -> None:
    with pytest.raises(InvalidKeyError):
        validate_key(key)


def test_identifier_with_trailing_newline_is_rejected() -> None:
    with pytest.raises(InvalidIdentifierError):
        validate_identifier("bronze.t\n")


@pytest.mark.parametrize(("name", "dialect", "quoted"), [
    ("bronze.orders", "duckdb", '"bronze"."orders"'),
    ("bronze.orders", "bigquery", "`bronze`.`orders`"),
    ("order", "duckdb", '"order"'),
    ("p.s.select", "bigquery", "`p`.`s`.`select`"),
])
def test_quote_identifier(name: str, dialect: str, quoted: str) -> None:
    assert quote_identifier(name, dialect) == quoted


@pytest.mark.parametrize("name", ['x"; DROP TABLE y; --', "a`b", "Order", "a..b", ""])
def test_quote_identifier_validates_first(name: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        quote_identifier(name, "duckdb")
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        quote_identifier("a", "postgres")
