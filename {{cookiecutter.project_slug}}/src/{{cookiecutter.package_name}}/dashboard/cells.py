"""How a table's cells are shown: whole numbers whole, empty cells blank.

Streamlit's grid draws a NULL cell as a grey ``None``, whatever a Styler says, and pandas turns
a column of counts with one NULL into floats (``11.000000`` through a Styler). So a column
with NULLs is sent as text, blank where the value is missing (right-aligned when it holds
numbers), and a float column of whole numbers is sent as integers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from . import palette

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler
    from streamlit.elements.lib.column_types import ColumnConfig

__all__ = ["cell", "shown"]


def shown(
    frame: pd.DataFrame,
    status_columns: Sequence[str] = (),
    column_config: Mapping[str, ColumnConfig] | None = None,
) -> tuple[Styler, dict[str, ColumnConfig]]:
    """``frame`` ready for ``st.dataframe``: the Styler (status cells in the status colours)
    and the column settings, the caller's ``column_config`` first."""
    configured = dict(column_config or {})
    data, right = frame.copy(), {}
    for name, column in frame.items():
        if name in configured or not isinstance(name, str):
            continue
        if column.isna().any():
            data[name] = column.map(cell)
            if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
                right[name] = st.column_config.Column(alignment="right")
        elif pd.api.types.is_float_dtype(column) and _all_whole(column):
            data[name] = column.astype("int64")
    styler = data.style.format(cell)
    colours = [name for name in status_columns if name in data.columns]
    if colours:
        styler = styler.map(palette.cell_style, subset=colours)
    return styler, {**right, **configured}


def _all_whole(column: pd.Series) -> bool:
    return not column.empty and bool((column == column.round()).all())


def cell(value: object) -> str:
    """One value as text: blank for a missing one, ``11`` for a whole float."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    return str(value)
