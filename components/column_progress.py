"""A progress bar while a wide table is worked through a batch of columns at a time."""

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from services.data.profile import WIDE_COLUMNS, Progress


@contextmanager
def column_progress(label: str, columns: int) -> Iterator[Progress | None]:
    """Yields the callback a service reports progress to, or None for a narrow table (quick:
    the cached function's own spinner says enough). The bar goes once the work is done."""
    if columns <= WIDE_COLUMNS:
        yield None
        return
    bar = st.progress(0.0, text=f"{label} ({columns:,} columns, a batch at a time)…")

    def update(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0),
                     text=f"{label}: {done:,} of {total:,} columns done…")

    try:
        yield update
    finally:
        bar.empty()
