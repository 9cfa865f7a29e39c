"""Results computed once per dataset version and kept in server memory, for work that shows
its progress while it runs.

`st.cache_data` replays what a cached function draws, and a progress bar updated from inside
it breaks that replay. A dataset version never changes, so a small shared store keyed by the
version's file is enough; what it returns is shared between sessions: read it, never change
it."""

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

T = TypeVar("T")
KEEP = 32  # versions kept per kind of result, the least recently used go first


class _Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: OrderedDict[str, object] = OrderedDict()


@st.cache_resource(show_spinner=False)
def _store(kind: str) -> _Store:
    return _Store()


def remember(kind: str, key: str, compute: Callable[[], T]) -> T:
    """`compute()` the first time `key` is asked for, the stored result after that."""
    store = _store(kind)
    with store.lock:
        if key in store.items:
            store.items.move_to_end(key)
            return store.items[key]  # type: ignore[return-value]
    value = compute()  # outside the lock: other versions need not wait
    with store.lock:
        store.items[key] = value
        while len(store.items) > KEEP:
            store.items.popitem(last=False)
    return value
