"""What a person has done to an open board in this browser session: the filter bar, the
chart selections (cross-filter chips) and a short history so "Back" undoes the last change.

Everything is kept as plain dicts in session state (pydantic models are rebuilt when read),
per board, so two boards opened one after the other keep their own filters.
"""

from typing import Any

import streamlit as st

from services.boards.filters import BarFilter
from services.charts.spec import Filter

HISTORY_MAX = 20  # enough to undo a meeting's worth of clicks; older steps are dropped


def _key(board_id: int, name: str) -> str:
    return f"board_{board_id}_{name}"


def bar(board_id: int) -> list[BarFilter]:
    return [BarFilter.model_validate(f) for f in st.session_state.get(_key(board_id, "bar"), [])]


def selections(board_id: int) -> list[dict[str, Any]]:
    """The chips made by selecting on charts, as the fields of services.boards.tiles.Selection
    (tile_id, dataset_id, filter, label)."""
    return [dict(s) for s in st.session_state.get(_key(board_id, "selections"), [])]


def _snapshot(board_id: int) -> dict[str, list]:
    return {"bar": list(st.session_state.get(_key(board_id, "bar"), [])),
            "selections": list(st.session_state.get(_key(board_id, "selections"), []))}


def _remember(board_id: int) -> None:
    """Keep how the board was filtered before a change, for Back."""
    history = list(st.session_state.get(_key(board_id, "history"), []))
    history.append(_snapshot(board_id))
    st.session_state[_key(board_id, "history")] = history[-HISTORY_MAX:]


def can_go_back(board_id: int) -> bool:
    return bool(st.session_state.get(_key(board_id, "history")))


def back(board_id: int) -> None:
    """Undo the last filter or selection change."""
    history = list(st.session_state.get(_key(board_id, "history"), []))
    if not history:
        return
    last = history.pop()
    st.session_state[_key(board_id, "history")] = history
    st.session_state[_key(board_id, "bar")] = last["bar"]
    st.session_state[_key(board_id, "selections")] = last["selections"]


def add_to_bar(board_id: int, item: Filter, kind: str) -> None:
    """One filter per column and kind: a new one on the same column replaces the old one."""
    _remember(board_id)
    kept = [f for f in st.session_state.get(_key(board_id, "bar"), [])
            if (f["filter"]["column"], f["kind"]) != (item.column, kind)]
    entry = BarFilter(filter=item, kind=kind).model_dump(mode="json")
    st.session_state[_key(board_id, "bar")] = [*kept, entry]


def remove_from_bar(board_id: int, index: int) -> None:
    entries = list(st.session_state.get(_key(board_id, "bar"), []))
    if not 0 <= index < len(entries):
        return
    _remember(board_id)
    st.session_state[_key(board_id, "bar")] = [f for i, f in enumerate(entries) if i != index]


def add_selection(board_id: int, selection: dict[str, Any]) -> None:
    """A tile holds one selection at a time: selecting again on it replaces the chip."""
    _remember(board_id)
    kept = [s for s in st.session_state.get(_key(board_id, "selections"), [])
            if s["tile_id"] != selection["tile_id"]]
    st.session_state[_key(board_id, "selections")] = [*kept, selection]


def remove_selection(board_id: int, index: int) -> None:
    chosen = list(st.session_state.get(_key(board_id, "selections"), []))
    if not 0 <= index < len(chosen):
        return
    _remember(board_id)
    st.session_state[_key(board_id, "selections")] = [s for i, s in enumerate(chosen)
                                                     if i != index]


def forget(board_id: int) -> None:
    """A deleted board's filters go with it."""
    for name in ("bar", "selections", "history"):
        st.session_state.pop(_key(board_id, name), None)
