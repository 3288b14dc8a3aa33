"""Validation of identifiers that come from outside: object keys and SQL table names.

Anything that reaches a filesystem path, a GCS object name or a SQL statement goes
through one of these functions first; SQL names are also quoted (:func:`quote_identifier`).
"""

from __future__ import annotations

import re

# Object keys: relative, '/'-separated segments of a conservative character set.
_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=+\-]*$")
MAX_KEY_LENGTH = 1024
# SQL identifiers: lower-case snake case; qualified names are dot-separated.
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")


class InvalidKeyError(ValueError):
    """An object key or prefix that is not safe to use."""


class InvalidIdentifierError(ValueError):
    """A SQL identifier that is not a plain snake_case name."""


def validate_key(key: str, *, allow_prefix: bool = False) -> str:
    """Return ``key`` if it is a safe relative object key, else raise InvalidKeyError.

    Rejects empty keys, absolute paths, backslashes, ``.``/``..`` segments, empty segments
    and characters outside ``[A-Za-z0-9._=+-]``. With ``allow_prefix`` the key may be empty
    or end with ``/`` (a listing prefix).
    """
    if not isinstance(key, str):
        raise InvalidKeyError(f"object key must be a string, got {type(key).__name__}")
    if allow_prefix and key == "":
        return key
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(f"object key longer than {MAX_KEY_LENGTH} characters")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise InvalidKeyError(f"object key {key!r} must be relative and use '/' separators")
    body = key[:-1] if allow_prefix and key.endswith("/") else key
    segments = body.split("/")
    for seg in segments:
        if seg in ("", ".", ".."):
            raise InvalidKeyError(f"object key {key!r} has an empty, '.' or '..' segment")
        if not _KEY_SEGMENT.fullmatch(seg):
            raise InvalidKeyError(
                f"object key {key!r}: segment {seg!r} has characters outside [A-Za-z0-9._=+-]")
    return key


def is_valid_key(key: str) -> bool:
    try:
        validate_key(key)
    except InvalidKeyError:
        return False
    return True


def validate_identifier(name: str) -> str:
    """Return a (possibly schema-qualified) snake_case SQL identifier, else raise."""
    parts = name.split(".") if isinstance(name, str) else [None]
    if not 1 <= len(parts) <= 3 or not all(isinstance(p, str) and _IDENTIFIER.fullmatch(p)
                                           for p in parts):
        raise InvalidIdentifierError(f"{name!r} is not a valid snake_case SQL identifier")
    return name


_QUOTES = {"duckdb": '"', "bigquery": "`"}


def quote_identifier(name: str, dialect: str) -> str:
    """Validate ``name`` (see :func:`validate_identifier`), then quote each dot-separated
    part for ``dialect``: ``"a"."b"`` (duckdb) or ```a`.`b``` (bigquery).

    Validation keeps injection out; quoting makes reserved words (``order``, ``select``)
    usable as table and column names.
    """
    if dialect not in _QUOTES:
        raise ValueError(f"unknown SQL dialect {dialect!r} (known: {sorted(_QUOTES)})")
    q = _QUOTES[dialect]
    return ".".join(f"{q}{part}{q}" for part in validate_identifier(name).split("."))
