"""Pandera building blocks shared by the bronze, silver and gold schemas."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import pandera.pandas as pa

Int = pd.Int64Dtype
Timestamp = Annotated[pd.DatetimeTZDtype, "us", "UTC"]


def key(description: str, *, unique: bool = True) -> object:
    """The table's key (``metadata={"key": True}``): never null, and unique unless the
    table keeps versions of a row (bronze)."""
    return pa.Field(nullable=False, unique=unique, metadata={"key": True},
                    description=description)


def col(description: str = "", **checks: object) -> object:
    """A nullable column."""
    return pa.Field(nullable=True, description=description or None, **checks)


def required(description: str = "", **checks: object) -> object:
    """A column that is never null."""
    return pa.Field(nullable=False, description=description or None, **checks)


def latitude() -> object:
    return col(in_range={"min_value": -90, "max_value": 90})


def longitude() -> object:
    return col(in_range={"min_value": -180, "max_value": 180})


class TableModel(pa.DataFrameModel):
    """Base of every table's model: values are coerced to the declared types, and a column
    the model does not declare is an error."""

    class Config:
        coerce = True
        strict = True
